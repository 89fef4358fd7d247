"""Partner claims (rebates, MDF) paid from a pre-funded double-entry ledger (SPEC §8).

claims.py          the claim lifecycle: draft, submit, approve (second approver), reject; MDF allocations
ledger.py          accounts, immutable transfers, two-phase reservations, cached balances
funding.py         pre-funding deposits and the release of payouts awaiting funds
payouts.py         executing a payout through a provider, webhooks, retries, returns, the sweep
checks.py          the invariants `flask ledger check` verifies
payees.py          partners' bank details, validated and encrypted at rest
reconciliation.py  provider statements (CSV) matched against our payouts
bankfile.py        ISO 20022 pain.001.001.09 files for the bank-file adapter
providers/         the adapter interface, the HTTP payments-API adapter, the bank-file adapter
locking.py         row locks and insert-if-absent on PostgreSQL and SQLite
api.py, views.py, webhooks.py   JSON API, web pages, provider webhooks
jobs.py            outbox handlers and RQ entry points; notifications.py the e-mails

The sandbox payments provider, a stand-in for the outside service, lives outside the
application package (`sandbox/` at the top of the repository, `python -m sandbox`).
"""
