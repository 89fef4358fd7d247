"""The programme platform's claims integration (issue #16): an external claims platform pushes
approved claims, which are paid at once, and hears back by signed callbacks.

models.py     integrations (credentials), pushed claims (the platform's reference, kept for
              good as the idempotency key), callback deliveries
services.py   registration, suspension, request signatures, pushing a claim
callbacks.py  signed status callbacks (paid, failed, returned) retried with back-off
api.py, views.py, schemas.py   the push endpoint and the vendor's registration page
jobs.py       the scheduled callback retries; cli.py key rotation and retries by hand
(the outbox handler that owes a callback runs with the partner's payment e-mail: app.payments.jobs)
"""
