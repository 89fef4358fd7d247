"""payments: claims, MDF allocations, double-entry ledger, payouts, payee details

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-24 14:43:36.298755

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('funding_source', 'prefunding', 'partner_payable', 'paid', name='ledger_account_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('posted', sa.BigInteger(), nullable=False),
    sa.Column('pending_debits', sa.BigInteger(), nullable=False),
    sa.Column('pending_credits', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'prefunding' OR posted - pending_debits >= 0", name=op.f('ck_ledger_accounts_prefunding_not_negative')),
    sa.CheckConstraint('pending_debits >= 0 AND pending_credits >= 0', name=op.f('ck_ledger_accounts_pending_not_negative')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_ledger_accounts_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_accounts_key'))
    )
    op.create_table('mdf_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_mdf_allocations_amount_not_negative')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_mdf_allocations_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mdf_allocations')),
    sa.UniqueConstraint('partner_id', 'period', 'currency', name=op.f('uq_mdf_allocations_partner_id_period_currency'))
    )
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('rebate', 'mdf', name='claim_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'rejected', 'payout_pending', 'paid', 'failed', 'returned', name='claim_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_approved_by_id', sa.Integer(), nullable=True),
    sa.Column('first_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejected_by_id', sa.Integer(), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_claims_amount_positive')),
    sa.CheckConstraint('approved_by_id IS NULL OR first_approved_by_id IS NULL OR approved_by_id <> first_approved_by_id', name=op.f('ck_claims_two_approvers')),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_claims_currency_iso')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_claims_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_claims_created_by_id_users')),
    sa.ForeignKeyConstraint(['first_approved_by_id'], ['users.id'], name=op.f('fk_claims_first_approved_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_claims_partner_id_organisations')),
    sa.ForeignKeyConstraint(['rejected_by_id'], ['users.id'], name=op.f('fk_claims_rejected_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_mdf_usage', ['partner_id', 'type', 'period', 'currency'], unique=False)
        batch_op.create_index('ix_claims_partner_page', ['partner_id', 'id'], unique=False)
        batch_op.create_index('ix_claims_status_page', ['status', 'id'], unique=False)

    op.create_table('payee_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('iban', 'aba', name='payee_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('holder_name', sa.String(length=140), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('masked', sa.String(length=64), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_payee_accounts_partner_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_payee_accounts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_accounts')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_payee_accounts_partner_id'))
    )
    op.create_table('statement_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('exceptions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_statement_imports_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_imports'))
    )
    op.create_table('claim_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_name', sa.String(length=80), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_attachments_claim_id_claims')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_claim_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_attachments')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_claim_attachments_storage_name'))
    )
    with op.batch_alter_table('claim_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_attachments_claim_id'), ['claim_id'], unique=False)

    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('pending', 'awaiting_funds', 'in_transit', 'paid', 'failed', 'returned', name='payout_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('provider_payout_id', sa.String(length=80), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_payouts_claim_id_claims')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_payouts_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_payouts_claim_id'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index('ix_payouts_partner_page', ['partner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_provider_payout_id'), ['provider_payout_id'], unique=False)
        batch_op.create_index('ix_payouts_queue', ['status', 'currency', 'approved_at', 'id'], unique=False)

    op.create_table('ledger_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('funding', 'reservation', 'post', 'void', 'settlement', 'return', name='ledger_transfer_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('pending_id', sa.Integer(), nullable=True),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", name=op.f('ck_ledger_transfers_resolution_names_reservation')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_transfers_amount_positive')),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_ledger_transfers_payout_id_payouts')),
    sa.ForeignKeyConstraint(['pending_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_transfers_pending_id_ledger_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transfers')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_transfers_key')),
    sa.UniqueConstraint('pending_id', name=op.f('uq_ledger_transfers_pending_id'))
    )
    with op.batch_alter_table('ledger_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transfers_payout_id'), ['payout_id'], unique=False)

    op.create_table('payment_provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_payment_provider_events_payout_id_payouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_provider_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_payment_provider_events_provider_event_id'))
    )
    with op.batch_alter_table('payment_provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_provider_events_payout_id'), ['payout_id'], unique=False)

    op.create_table('funding_deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_funding_deposits_amount_positive')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_funding_deposits_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfers.id'], name=op.f('fk_funding_deposits_transfer_id_ledger_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_deposits')),
    sa.UniqueConstraint('reference', name=op.f('uq_funding_deposits_reference'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_entries_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_entries_transfer_id_ledger_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transfer_id'), ['transfer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transfer_id'))
        batch_op.drop_index('ix_ledger_entries_account')

    op.drop_table('ledger_entries')
    op.drop_table('funding_deposits')
    with op.batch_alter_table('payment_provider_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_provider_events_payout_id'))

    op.drop_table('payment_provider_events')
    with op.batch_alter_table('ledger_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transfers_payout_id'))

    op.drop_table('ledger_transfers')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_queue')
        batch_op.drop_index(batch_op.f('ix_payouts_provider_payout_id'))
        batch_op.drop_index('ix_payouts_partner_page')

    op.drop_table('payouts')
    with op.batch_alter_table('claim_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_attachments_claim_id'))

    op.drop_table('claim_attachments')
    op.drop_table('statement_imports')
    op.drop_table('payee_accounts')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_status_page')
        batch_op.drop_index('ix_claims_partner_page')
        batch_op.drop_index('ix_claims_mdf_usage')

    op.drop_table('claims')
    op.drop_table('mdf_allocations')
    op.drop_table('ledger_accounts')
