"""Partner status, training and specialisations (SPEC §11, issue 16).

models.py      levels and their requirements, partners' statuses, trainings, specialisations,
               waivers, exceptions and the programme-wide changes applied
standing.py    whether a partner meets each requirement of its level (pure rules)
dashboard.py   the Partner Performance & Training Dashboard: one partner's, or every partner's
               with filters and a CSV export, read in one transaction
changes.py     programme-wide changes: each previewed (who is affected) and then applied, audited
levels.py      the level set and partners' statuses as the programmes team sets them up
api.py, views.py, demo.py   JSON API, web pages, demo data

It reads engineers' certifications (accounts) and rebate attainment (programmes); it writes neither.
"""
