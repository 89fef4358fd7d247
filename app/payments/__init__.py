"""Partner claims (rebates, MDF) paid from a pre-funded double-entry ledger (SPEC §8).

claims.py      the claim lifecycle: draft, submit, approve (second approver), reject
ledger.py      accounts, immutable transfers, two-phase reservations, balances
funding.py     pre-funding deposits and the release of payouts awaiting funds
payouts.py     executing a payout through a provider, webhooks, retries, returns
checks.py      the invariants `flask ledger check` verifies
payees.py      partners' bank details, encrypted at rest
providers/     the provider adapters (HTTP payments API, ISO 20022 pain.001 file)
sandbox/       a stand-alone sandbox payments provider for tests and the demo
"""
