"""Bulk import of the vendor's systems of record (contracts, certifications) from CSV.

registry.py names the kinds of file and their columns; reading.py streams a file
as batches of lines; runner.py runs one kind over them in one transaction;
contracts.py and certifications.py hold each kind's lines to the domain's rules.
"""
