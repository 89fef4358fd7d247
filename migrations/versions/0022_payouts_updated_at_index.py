"""payouts: an index on updated_at, for a payments page's feed to send what changed since the page's read

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:20:00
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_payouts_updated_at', 'payouts', ['updated_at'])


def downgrade():
    op.drop_index('ix_payouts_updated_at', table_name='payouts')
