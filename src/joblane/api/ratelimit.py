"""Rate limits at the HTTP edge. `RateLimits.charge` runs in `caller()` once the key is known
(reads: GET/HEAD, writes: everything else) and leaves its decision in `scope["state"]`;
`RateLimitHeaders`, a pure ASGI middleware, adds the fields to whatever response the request
gets (200, 304, errors, 429, even a 500) and gives a 304's unit back."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joblane.core.errors import RateLimited
from joblane.core.principal import Principal
from joblane.core.tenant import RateKind
from joblane.observe.metrics import metrics
from joblane.service.ratelimit import (
    RateDecision,
    RateLimiter,
    RatePolicies,
    RatePolicy,
    rate_headers,
    refunded,
    whole_seconds,
)

STATE_KEY = "rate_limit"
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Charge:
    """One request's unit: what the response headers say, and how to give it back."""

    limiter: RateLimiter
    key: str
    policy: RatePolicy
    decision: RateDecision


@dataclass(frozen=True, slots=True)
class RateLimits:
    limiter: RateLimiter
    policies: RatePolicies

    async def charge(self, request: Request, who: Principal) -> None:
        kind: RateKind = "read" if request.method in READ_METHODS else "write"
        key = who.key_id or f"tenant:{who.tenant_id}"
        policy = self.policies.resolve(kind, who.settings)  # cached with the key: no lookup
        decision = await self.limiter.acquire(key, policy)
        request.scope.setdefault("state", {})[STATE_KEY] = Charge(
            self.limiter, key, policy, decision
        )
        if not decision.allowed:
            metrics().rate_limited[kind].inc()
            wait = whole_seconds(decision.retry_after)
            raise RateLimited(
                f"too many {kind} requests for this API key: {policy.burst} at once, then "
                f"{policy.rate:g} per second; retry in {wait} s",
                retry_after=wait,
                details={"policy": kind, "retry_after": wait},
            )

    async def aclose(self) -> None:
        await self.limiter.close()


class RateLimitHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        refund: Charge | None = None

        async def send_with_limits(message: Message) -> None:
            nonlocal refund
            charge = state.get(STATE_KEY) if message["type"] == "http.response.start" else None
            if isinstance(charge, Charge):
                decision = charge.decision
                if message["status"] == 304 and decision.allowed:
                    refund, decision = charge, refunded(charge.policy, decision)
                fields = rate_headers(charge.policy, decision)
                message["headers"] = [*message.get("headers", []), *_encoded(fields)]
            await send(message)
            if refund is not None:  # after the headers went out: a 304 waits for nothing
                given_back, refund = refund, None
                await given_back.limiter.refund(given_back.key, given_back.policy)

        await self.app(scope, receive, send_with_limits)


def _encoded(fields: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in fields]
