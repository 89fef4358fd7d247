"""triage: release notes (releases, known anomalies, release entries) and rulings

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None

SEVERITIES = ('critical', 'major', 'minor', 'cosmetic')


def _severity(name):
    return sa.Enum(*SEVERITIES, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('triage_catalogues',
    sa.Column('product_family', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('product_family', name=op.f('pk_triage_catalogues'))
    )
    op.create_table('triage_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_family', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('released_on', sa.Date(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('source_digest', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_releases')),
    sa.UniqueConstraint('product_family', 'version', name=op.f('uq_triage_releases_product_family_version'))
    )
    op.create_table('triage_anomalies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_family', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=True),
    sa.Column('severity', _severity('anomaly_severity'), nullable=True),
    sa.Column('affected', sa.JSON(), nullable=False),
    sa.Column('fixed_in', sa.JSON(), nullable=False),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_anomalies')),
    sa.UniqueConstraint('product_family', 'code', name=op.f('uq_triage_anomalies_product_family_code'))
    )
    op.create_table('triage_release_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('anomaly_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.Enum('known', 'fixed', name='release_entry_section', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=True),
    sa.Column('severity', _severity('entry_severity'), nullable=True),
    sa.Column('affected', sa.JSON(), nullable=False),
    sa.Column('fixed_in', sa.JSON(), nullable=False),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['anomaly_id'], ['triage_anomalies.id'], name=op.f('fk_triage_release_entries_anomaly_id_triage_anomalies')),
    sa.ForeignKeyConstraint(['release_id'], ['triage_releases.id'], name=op.f('fk_triage_release_entries_release_id_triage_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_release_entries')),
    sa.UniqueConstraint('release_id', 'anomaly_id', name=op.f('uq_triage_release_entries_release_id_anomaly_id'))
    )
    with op.batch_alter_table('triage_release_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_release_entries_anomaly_id'), ['anomaly_id'], unique=False)

    op.create_table('triage_rulings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('anomaly_id', sa.Integer(), nullable=False),
    sa.Column('ruling', sa.Enum('matches', 'not_relevant', name='ruling_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ruled_by_id', sa.Integer(), nullable=False),
    sa.Column('ruled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['anomaly_id'], ['triage_anomalies.id'], name=op.f('fk_triage_rulings_anomaly_id_triage_anomalies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_rulings_case_id_cases')),
    sa.ForeignKeyConstraint(['ruled_by_id'], ['users.id'], name=op.f('fk_triage_rulings_ruled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_rulings')),
    sa.UniqueConstraint('case_id', 'anomaly_id', name=op.f('uq_triage_rulings_case_id_anomaly_id'))
    )
    with op.batch_alter_table('triage_rulings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_rulings_anomaly_id'), ['anomaly_id'], unique=False)


def downgrade():
    with op.batch_alter_table('triage_rulings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_rulings_anomaly_id'))
    op.drop_table('triage_rulings')
    with op.batch_alter_table('triage_release_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_release_entries_anomaly_id'))
    op.drop_table('triage_release_entries')
    op.drop_table('triage_anomalies')
    op.drop_table('triage_releases')
    op.drop_table('triage_catalogues')
