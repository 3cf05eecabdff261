"""The bank's policy: the numbers and switches an administrator sets. No behaviour lives here;
the workflow reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class RenewalPathName(StrEnum):
    """How a request proves who sent it (Dogtag-style authentication paths, see workflow)."""

    OLD_KEY = "old-key"  # the current valid key signs the request; paper acts to the bank
    ACTIVATION_CODE = "activation-code"  # first key: bound to a one-time code given on paper
    REMOTE_SIGNED_ACT = "remote-signed-act"  # old key signs the request and the act: no visit


@dataclass(frozen=True)
class Policy:
    # Seeds 000–002: "за месяц до истечения срока действия"; DESIGN.md: 30 days.
    renewal_window: timedelta = timedelta(days=30)
    # A request not approved within this time expires (seed 002: "в течение месяца").
    request_ttl: timedelta = timedelta(days=30)
    validity: timedelta = timedelta(days=365)
    # Two distinct bank employees must approve each request.
    four_eyes: bool = False
    # The old certificate is revoked (superseded) this long after the switch to the new key set,
    # if no payment signed with the new key came earlier.
    superseded_grace: timedelta = timedelta(days=14)
    activation_code_ttl: timedelta = timedelta(days=30)
    # The path planned renewals take: paper acts (OLD_KEY) or an e-signed act (REMOTE_SIGNED_ACT).
    renewal_path: RenewalPathName = RenewalPathName.OLD_KEY
    crl_validity: timedelta = timedelta(days=1)
    # The scheduler re-signs the CRL when its nextUpdate is this close.
    crl_refresh_margin: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if self.renewal_path == RenewalPathName.ACTIVATION_CODE:
            raise ValueError("renewal_path: the activation code is for first keys only")
        for name in ("renewal_window", "request_ttl", "validity", "activation_code_ttl"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
