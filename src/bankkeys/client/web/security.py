"""Per-launch secret, session cookie, CSRF tokens and header checks for the local UI."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

COOKIE = "bankkeys_ui"


@dataclass
class LaunchSecret:
    """Made fresh at every launch; never written to disk."""

    launch_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_value: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    allowed_hosts: set[str] = field(default_factory=set)

    def launch_ok(self, key: str | None) -> bool:
        return key is not None and hmac.compare_digest(key.encode(), self.launch_key.encode())

    def session_ok(self, cookie: str | None) -> bool:
        return cookie is not None and hmac.compare_digest(
            cookie.encode(), self.session_value.encode()
        )

    @property
    def csrf_token(self) -> str:
        return hmac.new(self.session_value.encode(), b"csrf", hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf_token.encode())

    def host_ok(self, host: str | None) -> bool:
        """DNS rebinding: only our own 127.0.0.1:port (and localhost:port) are served."""
        return host is not None and host.lower() in self.allowed_hosts

    def origin_ok(self, origin: str | None) -> bool:
        if origin is None:
            return True  # not sent by every browser for same-origin POSTs; CSRF token still needed
        return any(origin.lower() == f"http://{h}" for h in self.allowed_hosts)
