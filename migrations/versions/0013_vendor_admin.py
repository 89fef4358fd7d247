"""accounts: the vendor_admin role, and partners the vendor can suspend

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 04:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ROLES = ('customer', 'partner_engineer', 'partner_admin', 'gtac_engineer', 'gtac_manager', 'programs')


def _roles(roles):
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_user_role'),
                                         "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")")


def upgrade():
    _roles(ROLES + ('vendor_admin',))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('suspended_at')
    op.execute("DELETE FROM users WHERE role = 'vendor_admin'")
    _roles(ROLES)
