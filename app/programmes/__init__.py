"""The partner programme's rebates (SPEC §11): programmes, quarterly periods, targets, sales, attainment.

models.py        programmes, periods, tiers, target versions, alleviations, sales, settlements
targets.py       targets in force, set per partner, and target alleviation (preview, apply)
sales.py         the bookings CSV: parsed line by line, checked, imported idempotently
attainment.py    sales against the day-prorated target, the tier reached, the projected rebate
closing.py       period close (one rebate claim per partner, through app.payments) and bulk approval
services.py      programmes and their periods
chart.py         the rebate portal's server-rendered SVG chart
api.py, views.py, cli.py, demo.py   JSON API, web pages, `flask programmes ...`, demo data
notifications.py the e-mail a partner gets when its target is lowered

It asks app.payments to create and approve claims and knows nothing of the support side.
"""
