"""triage: cases resolved without escalating by applying a known fix

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('triage_applied_fixes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('anomaly_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('upgrade', 'workaround', name='fix_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target_release', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['anomaly_id'], ['triage_anomalies.id'], name=op.f('fk_triage_applied_fixes_anomaly_id_triage_anomalies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_applied_fixes_case_id_cases')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_triage_applied_fixes_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_applied_fixes'))
    )
    with op.batch_alter_table('triage_applied_fixes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_applied_fixes_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('triage_applied_fixes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_applied_fixes_case_id'))
    op.drop_table('triage_applied_fixes')
