"""Events written in the same transaction as the change that causes them.

A change calls emit(); after the commit the dispatcher hands the new events to
RQ (or runs them in-process on the embedded default). If that hand-off fails
(Redis down, process killed right after the commit) the rows stay pending and
the relay delivers them later. An event is processed once however often it is
handed over: the runner marks the row processed only after its handler and the
handler's deferred effects (defer(): an e-mail, an HTTP call) succeeded, under
a row lock on PostgreSQL. An effect repeats only if marking the event
processed fails after the effect went out.

Production runs `flask outbox relay` (one per deployment) beside any number of
`flask worker` processes; see app/outbox/cli.py.
"""
