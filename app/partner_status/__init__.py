"""Partner status, training and specialisations (SPEC §11, issue 16).

models.py      levels and their requirements, partners' statuses, trainings, specialisations,
               waivers, exceptions and the programme-wide changes applied
standing.py    whether a partner meets each requirement of its level (pure rules)
dashboard.py   the Partner Performance & Training Dashboard: one partner's, or every partner's
               with filters (a page at a time) and a CSV export, read in one transaction
changes.py     programme-wide changes: each previewed (who is affected) and then applied, audited
notifications.py  the e-mail each partner reached by a programme-wide change gets (outbox handler)
levels.py      the level set, partners' statuses, trainings and specialisations as the programmes
               team records them, validated and audited
api.py, views.py, demo.py   JSON API, web pages, demo data

It reads engineers' certifications (accounts), product families (contracts) and rebate attainment
(programmes); it writes none of them.
"""
