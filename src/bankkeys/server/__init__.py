"""The bank's HTTP server: the client API under ``/api/v1``, the operator console, the public CA
certificate and CRL, e-mail notifications and the scheduler tick.

Thin by design: a route parses, authorises (who is calling, and is the object theirs), calls
:mod:`bankkeys.bank`, and renders. Statuses, transitions and permissions live in
:mod:`bankkeys.bank.workflow`; the server never calls the CA directly.
"""
