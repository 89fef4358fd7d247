"""payments: provider in-transit account and handover transfers; only pre-funding caches its balance

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

Payouts already with the provider are handed over here, as the application
does when the provider accepts one, so the in-transit account holds them.
The cached totals of every account but the pre-funding ones are now summed
from the entries on demand, so their columns are set to zero.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ACCOUNT_KINDS = ('funding_source', 'prefunding', 'partner_payable', 'paid')
TRANSFER_KINDS = ('funding', 'reservation', 'post', 'void', 'settlement', 'return')


def _in(values):
    return "kind IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _kinds(account_kinds, transfer_kinds):
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_accounts_ledger_account_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_accounts_ledger_account_kind'), _in(account_kinds))
    with op.batch_alter_table('ledger_transfers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_transfers_ledger_transfer_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_transfers_ledger_transfer_kind'), _in(transfer_kinds))


accounts = sa.table('ledger_accounts', sa.column('id', sa.Integer()), sa.column('key', sa.String()),
                    sa.column('kind', sa.String()), sa.column('partner_id', sa.Integer()),
                    sa.column('currency', sa.String()), sa.column('posted', sa.BigInteger()),
                    sa.column('pending_debits', sa.BigInteger()), sa.column('pending_credits', sa.BigInteger()),
                    sa.column('created_at', sa.DateTime(timezone=True)))
transfers = sa.table('ledger_transfers', sa.column('id', sa.Integer()), sa.column('key', sa.String()),
                     sa.column('kind', sa.String()), sa.column('payout_id', sa.Integer()),
                     sa.column('amount', sa.BigInteger()), sa.column('currency', sa.String()),
                     sa.column('memo', sa.String()), sa.column('created_at', sa.DateTime(timezone=True)))
entries = sa.table('ledger_entries', sa.column('transfer_id', sa.Integer()), sa.column('account_id', sa.Integer()),
                   sa.column('amount', sa.BigInteger()), sa.column('currency', sa.String()),
                   sa.column('pending', sa.Boolean()))


def _account(connection, key, kind, currency, partner_id, at):
    found = connection.execute(sa.select(accounts.c.id).where(accounts.c.key == key)).scalar()
    if found is None:
        found = connection.execute(accounts.insert().values(
            key=key, kind=kind, partner_id=partner_id, currency=currency, posted=0, pending_debits=0,
            pending_credits=0, created_at=at).returning(accounts.c.id)).scalar()
    return found


def _hand_over_payouts_in_transit(connection):
    at = datetime.now(timezone.utc)
    payouts = connection.execute(sa.text(
        "SELECT id, partner_id, amount, currency, attempt FROM payouts WHERE status = 'in_transit' ORDER BY id")).all()
    for payout in payouts:
        payable = _account(connection, f"partner_payable:{payout.partner_id}:{payout.currency}",
                           'partner_payable', payout.currency, payout.partner_id, at)
        in_transit = _account(connection, f"in_transit:{payout.currency}", 'in_transit', payout.currency, None, at)
        transfer_id = connection.execute(transfers.insert().values(
            key=f"handover:payout:{payout.id}:{payout.attempt}", kind='handover', payout_id=payout.id,
            amount=payout.amount, currency=payout.currency, memo=f"PO{payout.id:010d}",
            created_at=at).returning(transfers.c.id)).scalar()
        connection.execute(entries.insert(), [
            {"transfer_id": transfer_id, "account_id": payable, "amount": -payout.amount,
             "currency": payout.currency, "pending": True},
            {"transfer_id": transfer_id, "account_id": in_transit, "amount": payout.amount,
             "currency": payout.currency, "pending": True}])


def upgrade():
    _kinds(ACCOUNT_KINDS + ('in_transit',), TRANSFER_KINDS + ('handover',))
    _hand_over_payouts_in_transit(op.get_bind())
    op.execute("UPDATE ledger_accounts SET posted = 0, pending_debits = 0, pending_credits = 0"
               " WHERE kind <> 'prefunding'")


def downgrade():
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT count(*) FROM ledger_transfers WHERE kind = 'post'"
                                  " AND key LIKE 'post:handover:%'")).scalar():
        raise RuntimeError("settled handovers exist: the ledger cannot go back to a schema without them")
    # Open handovers only: the payouts they hand over go back to being held by their reservation.
    op.execute("DELETE FROM ledger_transfers WHERE kind = 'void' AND key LIKE 'void:handover:%'")
    op.execute("DELETE FROM ledger_entries WHERE transfer_id IN"
               " (SELECT id FROM ledger_transfers WHERE kind = 'handover')")
    op.execute("DELETE FROM ledger_transfers WHERE kind = 'handover'")
    op.execute("DELETE FROM ledger_accounts WHERE kind = 'in_transit'")
    _kinds(ACCOUNT_KINDS, TRANSFER_KINDS)
    # Every account cached its totals before: rebuild them from the entries.
    op.execute("""
        UPDATE ledger_accounts SET
          posted = COALESCE((SELECT SUM(e.amount) FROM ledger_entries e
                             WHERE e.account_id = ledger_accounts.id AND NOT e.pending), 0),
          pending_debits = COALESCE((SELECT SUM(-e.amount) FROM ledger_entries e
                             WHERE e.account_id = ledger_accounts.id AND e.pending AND e.amount < 0
                               AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = e.transfer_id)), 0),
          pending_credits = COALESCE((SELECT SUM(e.amount) FROM ledger_entries e
                             WHERE e.account_id = ledger_accounts.id AND e.pending AND e.amount > 0
                               AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = e.transfer_id)), 0)
        WHERE kind <> 'prefunding'""")
