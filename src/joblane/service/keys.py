"""API keys: `jlk_` + 32 random + 6 checksum characters, shown once, stored only as a keyed hash.

The hash is HMAC-SHA256 under the server's secret (`JOBLANE_SECRET_KEY`, or one generated once and
kept in the database when that is not set), so a copy of the `api_keys` table alone cannot be
used to test guesses. The checksum lets a typo or a random string be refused before any lookup,
and lets secret scanners recognise a leaked key. Verified keys are cached for 2 s.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import string
import zlib
from dataclasses import dataclass

from joblane.core import ids
from joblane.core.errors import InvalidApiKey, InvalidKeyId, KeyNotFound, ValidationFailed
from joblane.core.principal import SCOPES, Principal
from joblane.service.tenants import TenantService
from joblane.storage.base import Storage
from joblane.storage.params import ApiKeyRecord

PREFIX = "jlk_"
_ALPHABET = string.digits + string.ascii_letters
_SECRET_LEN = 32
_CHECK_LEN = 6
CACHE_SECONDS = 2.0
SECRET_NAME = "api_key_hmac"
HMAC_VERSION = 2
LEGACY_VERSION = 1  # plain SHA-256: keys made before migration 0003

log = logging.getLogger("joblane.keys")


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


def legacy_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def keyed_hash(secret: str, server_secret: bytes) -> str:
    return hmac.new(server_secret, secret.encode(), hashlib.sha256).hexdigest()


def check_key_id(key_id: str) -> None:
    problem = ids.id_problem(key_id, ids.KEY)
    if problem is not None:
        raise InvalidKeyId(f"API key id {problem}", details={"key_id": key_id})


class KeyService:
    def __init__(
        self,
        storage: Storage,
        server_secret: str | None = None,
        tenants: TenantService | None = None,
    ) -> None:
        self.storage = storage
        self.tenants = tenants or TenantService(storage)
        self._configured = server_secret
        self._server_secret: bytes | None = None
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}
        self._by_id: dict[str, tuple[float, ApiKeyRecord | None]] = {}

    async def _hmac_key(self) -> bytes:
        if self._server_secret is None:
            secret = self._configured
            if not secret:
                log.warning(
                    "JOBLANE_SECRET_KEY is not set: API keys are hashed under a secret kept in "
                    "the database; set it so a copy of the database alone cannot check guesses"
                )
                secret = await self.storage.server_secret(SECRET_NAME, secrets.token_hex(32))
            self._server_secret = secret.encode()
        return self._server_secret

    async def create(
        self,
        tenant_id: str,
        scopes: tuple[str, ...],
        name: str = "",
        expires_at: float | None = None,
    ) -> CreatedKey:
        _check_scopes(scopes)
        await self.tenants.ensure(tenant_id)
        created = await self._new(tenant_id, scopes, name, expires_at)
        await self.storage.key_insert(created.record)
        return created

    async def _new(
        self, tenant_id: str, scopes: tuple[str, ...], name: str, expires_at: float | None
    ) -> CreatedKey:
        secret = generate_secret()
        record = ApiKeyRecord(
            id=ids.new_id(ids.KEY),
            tenant_id=tenant_id,
            name=name,
            prefix=secret[: len(PREFIX) + 6],
            key_hash=keyed_hash(secret, await self._hmac_key()),
            scopes=tuple(scopes),
            created_at=self.storage.now(),
            expires_at=expires_at,
            hash_version=HMAC_VERSION,
        )
        return CreatedKey(record, secret)

    async def rotate(self, key_id: str, grace: float, tenant_id: str | None = None) -> CreatedKey:
        """A new key with the same tenant, name and scopes; the old one stops working after
        `grace` seconds (0: at once)."""
        old = await self.get(key_id, tenant_id)
        created = await self._new(old.tenant_id, old.scopes, old.name, None)
        if not await self.storage.key_rotate(key_id, created.record, self.storage.now() + grace):
            raise KeyNotFound(
                f"API key '{key_id}' is revoked, expired or already rotated",
                details={"key_id": key_id},
            )
        self._cache.clear()
        self._by_id.clear()
        return created

    async def derived_secret(self, purpose: str) -> bytes:
        """A key for `purpose` (e.g. signing dashboard sessions) derived from the server
        secret, so no second secret needs keeping."""
        return hmac.new(await self._hmac_key(), purpose.encode(), hashlib.sha256).digest()

    async def authenticate_id(self, key_id: str) -> Principal:
        """The caller behind a key already verified once (a dashboard session holds its id, not
        its secret): revoked or expired keys fail here too; cached like `authenticate`."""
        now = self.storage.now()
        cached = self._by_id.get(key_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            record = cached[1]
        else:
            check_key_id(key_id)
            record = await self.storage.key_get(key_id)
            if len(self._by_id) > 10_000:
                self._by_id.clear()
            self._by_id[key_id] = (now, record)
        return await self._principal(record, now)

    async def authenticate(self, secret: str) -> Principal:
        now = self.storage.now()
        key_hash = keyed_hash(secret, await self._hmac_key())
        cached = self._cache.get(key_hash)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            record = cached[1]
        else:
            if not looks_valid(secret):
                raise InvalidApiKey("API key is malformed or its checksum is wrong")
            record = await self._lookup(secret, key_hash)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_hash] = (now, record)
        return await self._principal(record, now)

    async def _principal(self, record: ApiKeyRecord | None, now: float) -> Principal:
        if record is None:
            raise InvalidApiKey("API key is not known")
        if record.revoked_at is not None:
            raise InvalidApiKey("API key was revoked")
        if record.expires_at is not None and record.expires_at <= now:
            raise InvalidApiKey("API key has expired")
        settings = await self.tenants.settings(record.tenant_id)
        return Principal(record.tenant_id, frozenset(record.scopes), record.id, settings)

    async def _lookup(self, secret: str, key_hash: str) -> ApiKeyRecord | None:
        record = await self.storage.key_by_hash(key_hash)
        if record is None:
            legacy = await self.storage.key_by_hash(legacy_hash(secret))
            if legacy is not None and legacy.hash_version == LEGACY_VERSION:
                return legacy
        return record

    async def get(self, key_id: str, tenant_id: str | None = None) -> ApiKeyRecord:
        check_key_id(key_id)
        record = await self.storage.key_get(key_id)
        if record is None or (tenant_id is not None and record.tenant_id != tenant_id):
            raise KeyNotFound(f"API key '{key_id}' not found", details={"key_id": key_id})
        return record

    async def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        return await self.storage.keys_list(tenant_id)

    async def revoke(self, key_id: str, tenant_id: str | None = None) -> None:
        await self.get(key_id, tenant_id)
        if not await self.storage.key_revoke(key_id):
            raise KeyNotFound(
                f"API key '{key_id}' not found or already revoked", details={"key_id": key_id}
            )
        self._cache.clear()
        self._by_id.clear()


def _check_scopes(scopes: tuple[str, ...]) -> None:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(
            f"scopes must be some of {', '.join(SCOPES)}",
            [{"loc": ["scopes"], "msg": f"unknown scopes: {unknown}" if unknown else "empty"}],
        )
