"""One attempt on the wire: Standard Webhooks headers, and a POST to an address checked first.

The target's host is resolved here, every address it resolves to is judged by the operator's
`TargetPolicy`, and the request goes to the address that was checked (the URL's host stays in
the `Host` header and, for https, in SNI and certificate checks): a DNS answer that changes
between the check and the connection (rebinding) cannot send it anywhere else. Redirects are
not followed, proxies from the environment not used, and the response body is never read.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from joblane.core.targets import IPAddress, Target, TargetPolicy, literal_address, parse_target

USER_AGENT = "Joblane-Webhooks/1"
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The target may not receive webhooks (not sent at all)."""


@dataclass(frozen=True, slots=True)
class Sent:
    status_code: int | None  # None: no answer (refused, unreachable, timed out)
    error: str | None
    duration: float


def signature_headers(
    event_id: str, body: bytes, secrets: Sequence[str], timestamp: int
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,` signature per
    secret, space-separated: during a rotation's grace, both the new and the old one)."""
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(event_id, at, text) for secret in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Sender:
    def __init__(
        self,
        targets: TargetPolicy,
        timeout: float = 10.0,
        resolver: Resolver = resolve,
        max_connections: int = 32,
    ) -> None:
        self.targets = targets
        self.timeout = timeout
        self._resolve = resolver
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"user-agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Sent:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                status = await self._post(url, headers, body)
        except Refused as exc:
            return Sent(None, f"refused: {exc}", time.monotonic() - started)
        except (TimeoutError, httpx.TimeoutException):
            return Sent(None, f"no answer within {self.timeout:g} s", time.monotonic() - started)
        except (httpx.HTTPError, OSError) as exc:
            failure = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            return Sent(None, failure[:500], time.monotonic() - started)
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return Sent(status, error, time.monotonic() - started)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        try:
            target = parse_target(url)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        address = await self._checked_address(target)
        request_url = httpx.URL(url).copy_with(host=str(address))
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        host_header = httpx.URL(url).netloc.decode().rpartition("@")[2]
        sent_headers = {**headers, "host": host_header}
        async with self._client.stream(
            "POST", request_url, content=body, headers=sent_headers, extensions=extensions
        ) as response:
            return response.status_code

    async def _checked_address(self, target: Target) -> IPAddress:
        """The address to connect to: written in the URL, or the first the host resolves to,
        once every address it resolves to is allowed."""
        literal = literal_address(target.host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = await self._resolve(target.host, target.port)
            except OSError as exc:
                raise Refused(f"{target.host} does not resolve: {exc}") from None
            addresses = [a for a in (literal_address(f) for f in found) if a is not None]
            if not addresses:
                raise Refused(f"{target.host} resolves to no address")
        if literal is None and self.targets.trusts_name(target.host):
            return addresses[0]
        for address in addresses:
            problem = self.targets.address_problem(address)
            if problem is not None:
                raise Refused(problem if literal else f"{target.host} resolves to {problem}")
        return addresses[0]
