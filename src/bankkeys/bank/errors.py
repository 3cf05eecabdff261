"""Typed errors of the bank layer. Messages are in Russian (shown to users); the class says what
failed in English for code."""

from __future__ import annotations


class BankError(Exception):
    """Base class of every error raised by :mod:`bankkeys.bank`."""


class NotFound(BankError):
    """An organization, signer, certificate or request does not exist."""


class NotAllowed(BankError):
    """The actor's role (or identity) may not perform this action."""


class InvalidTransition(BankError):
    """The action is not possible in the current status; the message names that status."""

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current


class ValidationError(BankError):
    """Registration data is malformed (INN, KPP, OGRN, SNILS, e-mail ...)."""


class RequestRefused(BankError):
    """A re-key request failed one of the acceptance checks; nothing was stored."""


class SignatureInvalid(RequestRefused):
    """The CMS signature is missing, broken, or not by the signer's current valid certificate."""


class ProofOfPossessionFailed(RequestRefused):
    """The PKCS#10 request is not signed by the key it certifies."""


class SubjectMismatch(RequestRefused):
    """The request's subject does not match the signer on file."""


class KeyReused(RequestRefused):
    """The new public key has been seen before (in any request or certificate)."""


class OpenRequestExists(RequestRefused):
    """The signer already has an open re-key request."""


class ActivationCodeInvalid(RequestRefused):
    """The activation code is wrong, used, expired, or there is none."""


class PathNotAllowed(RequestRefused):
    """The renewal path (authentication method) is not enabled by policy or not applicable."""


class MalformedRequest(RequestRefused):
    """The submitted bytes are not a PKCS#10 request or a CMS SignedData carrying one."""


class CaError(BankError):
    """The CA is not initialised, or could not sign."""


class AuditChainBroken(BankError):
    """The audit log failed verification."""
