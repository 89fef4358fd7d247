"""outbox: the id of the request that caused an event, so that its job logs under the same id

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-05 05:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('request_id')
