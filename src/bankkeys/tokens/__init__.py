"""Where private keys live: one :class:`Token` protocol, a PKCS#11 backend and a software container.

``from bankkeys.tokens import SoftwareContainer, Pkcs11Module`` and work through :class:`Token`;
private keys never leave a token, they only sign through :meth:`Token.signer`.
"""

from __future__ import annotations

from bankkeys.tokens.base import (
    CertificateInfo,
    KeyInfo,
    PinState,
    Token,
    TokenInfo,
    TokenSigner,
)
from bankkeys.tokens.container import KdfParams, SoftwareContainer
from bankkeys.tokens.errors import (
    CertificateMismatch,
    ContainerCorrupted,
    ContainerExists,
    DefaultPinRefused,
    KeyNotFound,
    NotLoggedIn,
    ObjectNotFound,
    PinBlocked,
    PinPolicyViolation,
    TokenDeviceError,
    TokenError,
    TokenNotFound,
    TokenRemoved,
    UnsupportedKeySpec,
    WrongPin,
)
from bankkeys.tokens.pkcs11_token import Pkcs11Module, Pkcs11Token
from bankkeys.tokens.policy import BASIC, RUTOKEN_ECP_3, PinPolicy

__all__ = [
    "BASIC",
    "RUTOKEN_ECP_3",
    "CertificateInfo",
    "CertificateMismatch",
    "ContainerCorrupted",
    "ContainerExists",
    "DefaultPinRefused",
    "KdfParams",
    "KeyInfo",
    "KeyNotFound",
    "NotLoggedIn",
    "ObjectNotFound",
    "PinBlocked",
    "PinPolicy",
    "PinPolicyViolation",
    "PinState",
    "Pkcs11Module",
    "Pkcs11Token",
    "SoftwareContainer",
    "Token",
    "TokenDeviceError",
    "TokenError",
    "TokenInfo",
    "TokenNotFound",
    "TokenRemoved",
    "TokenSigner",
    "UnsupportedKeySpec",
    "WrongPin",
]
