"""What the bank needs to know about a submitted request, behind a small interface.

The workflow decides; the PKI layer parses and verifies. :class:`RequestInspector` turns the bytes a
client sent (a PKCS#10 request, bare or inside CMS SignedData) into :class:`RequestEvidence`, having
checked every signature it carries. The workflow then checks the evidence against the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bankkeys.pki.names import Name


@dataclass(frozen=True)
class RequestEvidence:
    pkcs10_der: bytes
    subject: Name
    public_key_info: bytes  # DER SubjectPublicKeyInfo of the new key
    # The certificate whose key signed the CMS wrapper (the signature verified with its key), or
    # None for a bare PKCS#10 (first key, bound to an activation code instead).
    signed_by_certificate: bytes | None


class RequestInspector(Protocol):
    def inspect(self, submitted: bytes, *, signer_certificate: bytes | None) -> RequestEvidence:
        """Parse and verify.

        ``signer_certificate`` is the certificate the bank expects to have signed the CMS
        wrapper (the signer's current one, from the database), or None when the request must
        be a bare PKCS#10 (first key). Raises MalformedRequest (not a request, or the wrong
        form), ProofOfPossessionFailed (the PKCS#10 is not signed by its own key),
        SignatureInvalid (no signature by ``signer_certificate``, or it does not verify).
        """
        ...

    def verify_signed_document(self, cms: bytes, content: bytes) -> bytes:
        """Verify a CMS SignedData over ``content`` (detached or attached); return the DER of the
        certificate whose key signed it. Raises SignatureInvalid or MalformedRequest."""
        ...
