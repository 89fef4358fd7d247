"""integrations: external claims platforms, the claims they pushed, the callbacks owed to them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 07:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def _when(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table('integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('callback_url', sa.String(length=2000), nullable=False),
    sa.Column('secret_ciphertext', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', name='integration_status', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    _when('created_at'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_integrations_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
    sa.UniqueConstraint('name', name=op.f('uq_integrations_name'))
    )
    op.create_table('integration_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    _when('created_at'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_integration_claims_claim_id_claims')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                            name=op.f('fk_integration_claims_integration_id_integrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_claims')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_integration_claims_claim_id')),
    sa.UniqueConstraint('integration_id', 'reference', name=op.f('uq_integration_claims_integration_id_reference'))
    )
    op.create_table('integration_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('pushed_claim_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='integration_callback_status',
                                native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    _when('next_attempt_at', nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    _when('created_at'),
    _when('delivered_at', nullable=True),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                            name=op.f('fk_integration_callbacks_integration_id_integrations')),
    sa.ForeignKeyConstraint(['pushed_claim_id'], ['integration_claims.id'],
                            name=op.f('fk_integration_callbacks_pushed_claim_id_integration_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_callbacks')),
    sa.UniqueConstraint('integration_id', 'event_id', name=op.f('uq_integration_callbacks_integration_id_event_id'))
    )
    with op.batch_alter_table('integration_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_integration_callbacks_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_callbacks_pushed_claim_id'), ['pushed_claim_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('integration_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integration_callbacks_pushed_claim_id'))
        batch_op.drop_index('ix_integration_callbacks_due')
    op.drop_table('integration_callbacks')
    op.drop_table('integration_claims')
    op.drop_table('integrations')
