"""Events written in the same transaction as the change that causes them.

A change calls uow.emit() (app.uow); after the commit the dispatcher hands the
new events to RQ (or runs them in-process on the embedded default). If that
hand-off fails (Redis down, process killed right after the commit) the rows
stay pending and the relay delivers them later. An event is processed once
however often it is handed over: its handler runs under the event's row lock,
commits with a lease on the event, and its effects on the outside world
(uow.after_commit(): an e-mail, an HTTP call) run after that commit, with no
transaction open; only then is the event marked processed. An effect repeats
only if marking the event processed fails after the effect went out.

Production runs `flask outbox relay` (one per deployment) beside any number of
`flask worker` processes; see app/outbox/cli.py.
"""
