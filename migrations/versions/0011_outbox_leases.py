"""outbox: a lease on an event while its effects (e-mail, HTTP) run after its handler's commit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00

Handlers' calls to the outside world now run with no transaction open, so the
event's row lock no longer covers them; the lease keeps a second runner away
meanwhile.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('leased_until')
