"""The client's workstation: what runs next to the token and talks to the bank only over HTTP(S).

Modules (each one job):

* :mod:`~bankkeys.client.errors` — ``ClientError`` and its subclasses, Russian messages.
* :mod:`~bankkeys.client.home` — the small config dir (bank URL, pinned CA, profile → token).
* :mod:`~bankkeys.client.models` — the bank API's JSON shapes as the client reads them.
* :mod:`~bankkeys.client.api` — the HTTP client of the bank's ``/api/v1``.
* :mod:`~bankkeys.client.trust` — pinning the bank's CA certificate.
* :mod:`~bankkeys.client.devices` — which tokens are plugged in (PKCS#11 and key containers).
* :mod:`~bankkeys.client.pins` — PIN entry and the forced change of factory PINs.
* :mod:`~bankkeys.client.fields` — the request fields to check and correct.
* :mod:`~bankkeys.client.progress` — where a profile's process stands (derived, never stored).
* :mod:`~bankkeys.client.rekey` — generate, sign, send, sign the act, install the certificate.
* :mod:`~bankkeys.client.service` — the one facade the CLI and the local web UI both use.
* :mod:`~bankkeys.client.cli`, :mod:`~bankkeys.client.web` — the two faces.

Nothing here imports :mod:`bankkeys.bank` or :mod:`bankkeys.server`: a test enforces it.
"""
