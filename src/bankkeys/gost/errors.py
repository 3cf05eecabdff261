"""Errors raised by the GOST core. Every bad input maps to one of these, never a crash."""


class GostError(ValueError):
    """Base class for every error of :mod:`bankkeys.gost`."""


class UnknownParameterSet(GostError, KeyError):
    """The curve name or OID is not one of the supported parameter sets."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown parameter set"


class InvalidLength(GostError):
    """A key, digest or signature has the wrong number of bytes for its curve."""


class InvalidPrivateKey(GostError):
    """The private scalar is zero or not below the subgroup order q."""


class InvalidPublicKey(GostError):
    """The public key is not a point of the curve's prime-order subgroup."""


class InvalidSignature(GostError):
    """The signature is malformed (r or s out of range) or does not verify."""
