"""The sandbox payments provider, run as its own process: `python -m app.payments.sandbox --port N`."""
