"""GTAC's side of the product: SR workflow, SLA clocks, queues, live events, RMAs and webhooks."""
