"""Triage (SPEC §7): release notes and known anomalies, their ranking for a case, duplicates, severity flags, rulings."""
