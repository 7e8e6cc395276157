"""One attempt on the wire, against a real receiver on a loopback address: Standard Webhooks
headers that the `standardwebhooks` verifier accepts, and SSRF checks made on the addresses a
host resolves to, with the connection going to the address that was checked."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from joblane.core.targets import TargetPolicy
from joblane.service.webhooks import new_secret
from joblane.webhooks.sender import Sender, signature_headers
from webhook_receiver import receiving

ALLOW_LOCAL = TargetPolicy.parse("127.0.0.1")
BODY = b'{"type":"job.completed","timestamp":"2026-01-31T12:00:00.000Z","data":{"id":"job_x"}}'


def headers_for(secrets: tuple[str, ...], event_id: str = "evt_test") -> dict[str, str]:
    return signature_headers(event_id, BODY, secrets, int(time.time()))


async def test_a_signed_request_verifies_with_the_standardwebhooks_verifier() -> None:
    secret = new_secret()
    sender = Sender(ALLOW_LOCAL, timeout=5)
    with receiving() as receiver:
        sent = await sender.send(receiver.url + "/hook", headers_for((secret,)), BODY)
        (got,) = receiver.snapshot()
    await sender.aclose()

    assert (sent.status_code, sent.error) == (200, None)
    assert got.body == BODY
    assert got.headers["content-type"] == "application/json"
    assert Webhook(secret).verify(got.body, got.headers) == {
        "type": "job.completed",
        "timestamp": "2026-01-31T12:00:00.000Z",
        "data": {"id": "job_x"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body + b" ", got.headers)


async def test_during_a_rotation_either_secret_verifies() -> None:
    new, old = new_secret(), new_secret()
    headers = headers_for((new, old))

    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        Webhook(secret).verify(BODY, headers)


async def test_an_error_status_is_an_answer_and_a_refused_connection_is_none() -> None:
    sender = Sender(ALLOW_LOCAL, timeout=5)
    with receiving(statuses=[500]) as receiver:
        failed = await sender.send(receiver.url, headers_for(("whsec_AAAA",)), BODY)
        receiver.down()
        refused = await sender.send(receiver.url, headers_for(("whsec_AAAA",)), BODY)
    await sender.aclose()

    assert (failed.status_code, failed.error) == (500, "HTTP 500")
    assert refused.status_code is None and refused.error is not None
    assert "Connect" in refused.error


async def test_a_receiver_that_never_answers_times_out() -> None:
    sender = Sender(ALLOW_LOCAL, timeout=0.5)
    with receiving() as receiver:
        receiver.hold()
        sent = await sender.send(receiver.url, headers_for(("whsec_AAAA",)), BODY)
        receiver.release()
    await sender.aclose()

    assert sent.status_code is None and sent.error == "no answer within 0.5 s"
    assert 0.5 <= sent.duration < 2.0


@pytest.mark.parametrize(
    "spelling",
    ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "localhost"],
)
async def test_loopback_is_refused_by_default_however_it_is_written(spelling: str) -> None:
    sender = Sender(TargetPolicy(), timeout=5)
    with receiving() as receiver:
        sent = await sender.send(
            f"http://{spelling}:{receiver.port}/hook", headers_for(("whsec_AAAA",)), BODY
        )
        received = receiver.snapshot()
    await sender.aclose()

    assert sent.status_code is None and received == []
    assert sent.error is not None and sent.error.startswith("refused: ")
    assert "loopback" in sent.error


async def test_a_host_resolving_to_a_private_address_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"] if host == "mixed.test" else []

    sender = Sender(ALLOW_LOCAL, timeout=5, resolver=resolver)
    sent = await sender.send("http://mixed.test/hook", headers_for(("whsec_AAAA",)), BODY)
    unknown = await sender.send("http://nowhere.test/hook", headers_for(("whsec_AAAA",)), BODY)
    await sender.aclose()

    assert sent.error == (
        "refused: mixed.test resolves to 10.1.2.3 is a private address "
        "(an operator may allow it: JOBLANE_WEBHOOK_ALLOW_HOSTS)"
    )
    assert unknown.error == "refused: nowhere.test resolves to no address"


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: `vm` is 127.0.0.1 in /etc/hosts, but the check resolved it to 127.0.0.2
    (allowed), where the receiver listens. Only a connection to the checked address reaches it;
    the URL's host stays in the Host header."""
    resolved: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.2"]

    sender = Sender(TargetPolicy.parse("127.0.0.2"), timeout=5, resolver=resolver)
    with receiving(host="127.0.0.2") as receiver:
        sent = await sender.send(
            f"http://vm:{receiver.port}/hook", headers_for(("whsec_AAAA",)), BODY
        )
        (got,) = receiver.snapshot()
    await sender.aclose()

    assert (sent.status_code, sent.error) == (200, None)
    assert resolved == ["vm"]  # resolved once, by the check
    assert got.headers["host"] == f"vm:{receiver.port}"


async def test_an_operator_may_trust_a_host_name() -> None:
    sender = Sender(TargetPolicy.parse("localhost"), timeout=5)
    with receiving() as receiver:
        sent = await sender.send(
            f"http://localhost:{receiver.port}/", headers_for(("whsec_AAAA",)), BODY
        )
    await sender.aclose()

    assert (sent.status_code, sent.error) == (200, None)


async def test_redirects_are_not_followed_and_other_schemes_never_sent() -> None:
    sender = Sender(ALLOW_LOCAL, timeout=5)
    with receiving(statuses=[302]) as receiver:
        moved = await sender.send(receiver.url, headers_for(("whsec_AAAA",)), BODY)
        assert len(receiver.snapshot()) == 1
    ftp = await sender.send("ftp://127.0.0.1/x", headers_for(("whsec_AAAA",)), BODY)
    await sender.aclose()

    assert (moved.status_code, moved.error) == (302, "HTTP 302")
    assert ftp.error == "refused: only http and https URLs can receive webhooks"
