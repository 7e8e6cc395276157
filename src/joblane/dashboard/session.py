"""The dashboard's signed cookies, pure: a session holds an API key's id and an expiry (never
the key itself), and a nonce that the CSRF token is bound to; a flash is a one-shot message.

Both are `base64url(payload) . base64url(HMAC-SHA256(secret, kind | payload))`; the kind keeps
a flash from ever passing for a session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson

SESSION_SECONDS = 12 * 3600.0
MAX_FLASH_CHARS = 300


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str
    expires_at: float
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, kind: str, payload: bytes) -> bytes:
        return hmac.new(self._secret, kind.encode() + b"|" + payload, hashlib.sha256).digest()

    def sign(self, kind: str, value: object) -> str:
        payload = orjson.dumps(value)
        return f"{_b64(payload)}.{_b64(self._mac(kind, payload))}"

    def unsign(self, kind: str, token: str) -> object | None:
        head, _, tail = token.partition(".")
        try:
            payload, mac = _unb64(head), _unb64(tail)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(mac, self._mac(kind, payload)):
            return None
        try:
            value: object = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        return value

    # -- sessions ----------------------------------------------------------------------------
    def new_session(self, key_id: str, now: float) -> tuple[Session, str]:
        session = Session(key_id, now + SESSION_SECONDS, secrets.token_urlsafe(16))
        return session, self.sign("session", [key_id, session.expires_at, session.nonce])

    def session(self, cookie: str | None, now: float) -> Session | None:
        """The session in a cookie that is ours, well-formed and not expired; else None."""
        if not cookie:
            return None
        value = self.unsign("session", cookie)
        if not isinstance(value, list) or len(value) != 3:
            return None
        key_id, expires_at, nonce = value
        if not isinstance(key_id, str) or not isinstance(nonce, str):
            return None
        if not isinstance(expires_at, int | float) or expires_at <= now:
            return None
        return Session(key_id, float(expires_at), nonce)

    def csrf_token(self, session: Session) -> str:
        return _b64(self._mac("csrf", session.nonce.encode()))

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    # -- flash messages ----------------------------------------------------------------------
    def flash(self, message: str, level: str = "ok") -> str:
        return self.sign("flash", [level, message[:MAX_FLASH_CHARS]])

    def read_flash(self, cookie: str | None) -> tuple[str, str] | None:
        """(level, message), or None."""
        value = self.unsign("flash", cookie) if cookie else None
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return value[0], value[1]
        return None
