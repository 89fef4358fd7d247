"""attachments: a visibility marker, so files on the SR's partner<->GTAC thread never reach the customer

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Every existing file was uploaded on the case, where everyone on the case sees it.
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.Enum('case', 'gtac_thread', name='attachment_visibility', native_enum=False, create_constraint=True, length=32), server_default='case', nullable=False))


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        # SQLite's table copy would keep the column's CHECK and fail on the missing column.
        batch_op.drop_constraint(op.f('ck_attachments_attachment_visibility'), type_='check')
        batch_op.drop_column('visibility')
