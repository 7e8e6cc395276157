"""API keys: created once, stored as a hash, checked on every request (briefly cached)."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib
from dataclasses import dataclass

from joblane.core import ids
from joblane.core.errors import InvalidApiKey, NotFound, ValidationFailed
from joblane.core.principal import SCOPES, Principal
from joblane.storage.base import Storage
from joblane.storage.params import ApiKeyRecord

PREFIX = "jlk_"
_ALPHABET = string.digits + string.ascii_letters
_SECRET_LEN = 32
_CHECK_LEN = 6
CACHE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    secret: str


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK_LEN)


def generate_secret() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LEN))
    return f"{PREFIX}{body}{_checksum(body)}"


_SHAPE = re.compile(rf"^{PREFIX}[0-9A-Za-z]{{{_SECRET_LEN + _CHECK_LEN}}}$")


def looks_valid(secret: str) -> bool:
    """Format and checksum, checked before any lookup: typos and garbage never reach storage."""
    if not _SHAPE.match(secret):
        return False
    body, check = secret[len(PREFIX) : -_CHECK_LEN], secret[-_CHECK_LEN:]
    return secrets.compare_digest(check, _checksum(body))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}

    async def create(
        self,
        tenant_id: str,
        scopes: tuple[str, ...],
        name: str = "",
        expires_at: float | None = None,
    ) -> CreatedKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationFailed(
                f"scopes must be some of {', '.join(SCOPES)}",
                [{"loc": ["scopes"], "msg": f"unknown scopes: {unknown}" if unknown else "empty"}],
            )
        if not tenant_id.strip():
            raise ValidationFailed(
                "tenant must not be empty", [{"loc": ["tenant"], "msg": "empty"}]
            )
        secret = generate_secret()
        record = ApiKeyRecord(
            id=ids.new_id(ids.KEY),
            tenant_id=tenant_id,
            name=name,
            prefix=secret[: len(PREFIX) + 6],
            key_hash=hash_secret(secret),
            scopes=tuple(scopes),
            created_at=self.storage.now(),
            expires_at=expires_at,
        )
        await self.storage.key_insert(record)
        return CreatedKey(record, secret)

    async def authenticate(self, secret: str) -> Principal:
        now = self.storage.now()
        key_hash = hash_secret(secret)
        cached = self._cache.get(key_hash)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            record = cached[1]
        else:
            if not looks_valid(secret):
                raise InvalidApiKey("API key is malformed or its checksum is wrong")
            record = await self.storage.key_by_hash(key_hash)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_hash] = (now, record)
        if record is None:
            raise InvalidApiKey("API key is not known")
        if record.revoked_at is not None:
            raise InvalidApiKey("API key was revoked")
        if record.expires_at is not None and record.expires_at <= now:
            raise InvalidApiKey("API key has expired")
        return Principal(record.tenant_id, frozenset(record.scopes), record.id)

    async def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        return await self.storage.keys_list(tenant_id)

    async def revoke(self, key_id: str) -> None:
        if not await self.storage.key_revoke(key_id):
            raise NotFound(f"API key '{key_id}' not found or already revoked")
        self._cache.clear()
