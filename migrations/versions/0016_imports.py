"""imports: contracts and certifications from the vendor's systems of record

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-05 05:00:00

A certification gains the date it was obtained (the training system's export
carries it); the rows entered before have none. An import run keeps its
preview's counts and, while it is applied, how far it has come.
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0017'
branch_labels = None
depends_on = None

STATUSES = ('previewed', 'queued', 'running', 'applied', 'refused', 'failed')


def upgrade():
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certified_on', sa.Date(), nullable=True))
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('skip_bad', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='import_status', native_enum=False, create_constraint=True,
                                length=32), nullable=False),
    sa.Column('processed_bytes', sa.BigInteger(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_runs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_created_by_id'), ['created_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_created_by_id'))
    op.drop_table('import_runs')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_column('certified_on')
