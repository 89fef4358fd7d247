"""partner status: levels and their requirements, partners' statuses, trainings, specialisations,
waivers, exceptions and the programme-wide changes applied

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 07:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_levels')),
    sa.UniqueConstraint('name', name=op.f('uq_partner_levels_name')),
    sa.UniqueConstraint('rank', name=op.f('uq_partner_levels_rank'))
    )
    op.create_table('level_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('certified_engineers', 'training', 'specialisation', name='requirement_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.CheckConstraint('minimum >= 1', name=op.f('ck_level_requirements_minimum_positive')),
    sa.ForeignKeyConstraint(['level_id'], ['partner_levels.id'], name=op.f('fk_level_requirements_level_id_partner_levels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level_requirements')),
    sa.UniqueConstraint('level_id', 'code', name=op.f('uq_level_requirements_level_id_code'))
    )
    op.create_table('partner_specialisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_partner_specialisations_ends_after_start')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_partner_specialisations_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_specialisations'))
    )
    with op.batch_alter_table('partner_specialisations', schema=None) as batch_op:
        batch_op.create_index('ix_partner_specialisations_partner', ['partner_id', 'name'], unique=False)

    op.create_table('partner_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('valid_through', sa.Date(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['level_id'], ['partner_levels.id'], name=op.f('fk_partner_statuses_level_id_partner_levels')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_partner_statuses_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_statuses')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_partner_statuses_partner_id'))
    )
    with op.batch_alter_table('partner_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_statuses_level_id'), ['level_id'], unique=False)

    op.create_table('partner_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('granted_until', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_partner_exceptions_created_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_partner_exceptions_partner_id_organisations')),
    sa.ForeignKeyConstraint(['requirement_id'], ['level_requirements.id'], name=op.f('fk_partner_exceptions_requirement_id_level_requirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_exceptions')),
    sa.UniqueConstraint('partner_id', 'requirement_id', name=op.f('uq_partner_exceptions_partner_id_requirement_id'))
    )
    op.create_table('partner_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('affected', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_partner_status_changes_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_status_changes'))
    )
    op.create_table('training_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=64), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_completions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_completions')),
    sa.UniqueConstraint('user_id', 'course', name=op.f('uq_training_completions_user_id_course'))
    )
    op.create_table('requirement_waivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['partner_status_changes.id'], name=op.f('fk_requirement_waivers_change_id_partner_status_changes')),
    sa.ForeignKeyConstraint(['requirement_id'], ['level_requirements.id'], name=op.f('fk_requirement_waivers_requirement_id_level_requirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_waivers'))
    )
    with op.batch_alter_table('requirement_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_waivers_requirement_id'), ['requirement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('requirement_waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_waivers_requirement_id'))

    op.drop_table('requirement_waivers')
    op.drop_table('training_completions')
    op.drop_table('partner_status_changes')
    op.drop_table('partner_exceptions')
    with op.batch_alter_table('partner_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_statuses_level_id'))

    op.drop_table('partner_statuses')
    with op.batch_alter_table('partner_specialisations', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_specialisations_partner')

    op.drop_table('partner_specialisations')
    op.drop_table('level_requirements')
    op.drop_table('partner_levels')
