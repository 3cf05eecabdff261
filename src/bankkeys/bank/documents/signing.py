"""The acceptance act signed electronically instead of on paper (remote renewal).

Where policy allows, the client signs the act's PDF bytes with the still-valid key: a detached CMS
SignedData (RFC 5652, GOST per RFC 9337) made by :func:`bankkeys.pki.cms.sign_cms`. Because the act
renders deterministically, the bank does not need to trust the PDF the client sends: it renders the
act again from its own record of the request (:func:`verify_signed_act`), so a signature over any
other act, or over an act of another key, fails.

Which certificate may sign (the signer's current one, valid and unrevoked, issued by the bank's
CA) is the workflow's decision; here only the signature itself is checked.
"""

from __future__ import annotations

from datetime import datetime

from bankkeys.bank.documents.acceptance_act import render_acceptance_act
from bankkeys.bank.documents.model import KeyDocumentInput
from bankkeys.pki.certificates import Certificate
from bankkeys.pki.cms import VerifiedSignature, sign_cms, verify_cms
from bankkeys.pki.signer import Signer


def sign_act(
    pdf: bytes, signer: Signer, certificate: Certificate, *, signing_time: datetime | None = None
) -> bytes:
    """A detached CMS signature (DER) over the act's PDF bytes, made with ``signer`` whose
    certificate is ``certificate`` (embedded in the CMS)."""
    return sign_cms(pdf, signer, certificate, detached=True, signing_time=signing_time)


def verify_act_signature(pdf: bytes, cms: bytes, certificate: Certificate) -> VerifiedSignature:
    """Check that ``certificate``'s key signed exactly these PDF bytes.

    Raises :class:`bankkeys.pki.errors.SignatureInvalid` (other bytes, other signer, bad
    signature) or :class:`bankkeys.pki.errors.ParseError` (not a CMS).
    """
    return verify_cms(cms, certificate, pdf)


def verify_signed_act(
    doc: KeyDocumentInput, cms: bytes, certificate: Certificate
) -> VerifiedSignature:
    """Render the act from the bank's own record and check the signature over those bytes."""
    return verify_act_signature(render_acceptance_act(doc), cms, certificate)
