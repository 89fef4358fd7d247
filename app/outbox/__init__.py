"""Events written in the same transaction as the change that causes them.

A change calls emit(); after the commit the dispatcher hands the new events to
RQ (or runs them in-process on the embedded default). If that hand-off fails
(Redis down, process killed right after the commit) the rows stay pending and
the relay delivers them later. Handlers run at most once per event: the runner
marks the row processed in the handler's own transaction, under a row lock.
"""
