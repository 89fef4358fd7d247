"""import_runs: the applying worker's attempt number and last sign of life, and why a run failed,
so that an import whose worker stopped is started again rather than left running

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 09:00:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failure', sa.Text(), nullable=True))
    # Runs left running by the code before this revision, which wrote no sign of life: counted from
    # now, so that a worker of that code still applying one during the deploy is given the whole
    # staleness before its run is taken over, and the ones left for good are taken over after it.
    runs = sa.table('import_runs', sa.column('status', sa.String()), sa.column('attempts', sa.Integer()),
                    sa.column('heartbeat_at', sa.DateTime(timezone=True)))
    op.execute(runs.update().where(runs.c.status == 'running')
               .values(attempts=1, heartbeat_at=datetime.now(timezone.utc)))


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('failure')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('attempts')
