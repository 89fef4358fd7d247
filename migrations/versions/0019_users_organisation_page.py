"""accounts: users indexed by (organisation, id), so a partner admin's user list stays a page's work at any size

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-05 05:40:00
"""
from alembic import op

revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_organisation_id')
        batch_op.create_index('ix_users_organisation_page', ['organisation_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_organisation_page')
        batch_op.create_index('ix_users_organisation_id', ['organisation_id'], unique=False)
