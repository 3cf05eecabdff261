"""PKI objects over DER, no I/O: keys, certificates, requests, CMS, CRLs, validation.

Modules (each one job):

* :mod:`~bankkeys.pki.signer` — the ``Signer`` protocol and ``KeySpec``.
* :mod:`~bankkeys.pki.algorithms` — the one OID <-> algorithm registry (GOST 2012-256/512 on every
  parameter set of the core, ECDSA P-256 with SHA-256).
* :mod:`~bankkeys.pki.keys` — SubjectPublicKeyInfo (RFC 9215 / 5480), PKCS#8, PEM.
* :mod:`~bankkeys.pki.software` — ``SoftwareSigner`` for keys in memory.
* :mod:`~bankkeys.pki.verify` — ``verify_signature`` and friends.
* :mod:`~bankkeys.pki.names` — ``Name`` with the Russian qualified-certificate attributes.
* :mod:`~bankkeys.pki.certificates`, :mod:`~bankkeys.pki.requests`, :mod:`~bankkeys.pki.cms`,
  :mod:`~bankkeys.pki.crls`, :mod:`~bankkeys.pki.validation`.
* :mod:`~bankkeys.pki.errors` — ``PkiError`` and its subclasses; nothing else escapes.

The package namespace stays empty on purpose: importing ``bankkeys.pki.signer`` must not pull in
asn1crypto or the GOST core.
"""
