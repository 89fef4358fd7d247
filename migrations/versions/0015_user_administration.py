"""accounts: invitations and password resets by single-use link, token expiry and last use

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-05 05:00:00

An invited user has no password until the invitation is accepted, so the
column becomes nullable. Links are stored as the digest of their secret only.
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invitation', 'password_reset', name='link_purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_links')),
    sa.UniqueConstraint('digest', name=op.f('uq_account_links_digest'))
    )
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_links_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)


def downgrade():
    # Users still waiting to accept an invitation cannot be kept without a password.
    op.execute("DELETE FROM web_sessions WHERE user_id IN (SELECT id FROM users WHERE password_hash IS NULL)")
    op.execute("UPDATE users SET password_hash = '!' , active = false WHERE password_hash IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_links_user_id'))
    op.drop_table('account_links')
