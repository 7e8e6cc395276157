"""Where webhooks may go: every spelling of a non-public address is refused, unless allowed."""

from __future__ import annotations

import ipaddress

import pytest

from joblane.core.targets import TargetPolicy, literal_address, refusal

DEFAULT = TargetPolicy()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.1/hook", "loopback"),  # short form
        ("http://2130706433/hook", "loopback"),  # decimal
        ("http://0x7f000001/hook", "loopback"),  # hex
        ("http://0x7f.0.0.1/hook", "loopback"),
        ("http://0177.0.0.1/hook", "loopback"),  # octal
        ("http://127.0.0.1.:8080/hook", "loopback"),  # trailing dot
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4-mapped IPv6
        ("http://[::ffff:7f00:1]/hook", "loopback"),
        ("http://[2002:7f00:1::]/hook", "loopback"),  # 6to4 around 127.0.0.1
        ("http://10.0.0.8/hook", "private"),
        ("http://172.16.3.4/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://[fc00::1]/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),  # cloud metadata
        ("http://[fe80::1]/hook", "link-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://[ff02::1]/hook", "multicast"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[::]/hook", "unspecified"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://100.64.0.1/hook", "non-public"),  # shared address space (CGNAT)
    ],
)
def test_non_public_addresses_are_refused_in_every_spelling(url: str, kind: str) -> None:
    problem = DEFAULT.url_problem(url)

    assert problem is not None and f"a {kind} address" in problem, problem
    assert "JOBLANE_WEBHOOK_ALLOW_HOSTS" in problem


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/",
        "http://LOCALHOST./x",
        "https://api.localhost/",
        "http://ip6-localhost/",
    ],
)
def test_names_of_this_machine_are_refused_without_resolving_them(url: str) -> None:
    problem = DEFAULT.url_problem(url)

    assert problem is not None and "names this machine" in problem


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "//x"])
def test_only_http_and_https_are_targets(url: str) -> None:
    problem = DEFAULT.url_problem(url)

    assert problem is not None and "only http and https" in problem


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hooks", "http://93.184.215.14:8080/x", "https://[2606:4700::1]/"],
)
def test_public_targets_pass(url: str) -> None:
    assert DEFAULT.url_problem(url) is None


def test_the_operator_allows_addresses_networks_and_names() -> None:
    policy = TargetPolicy.parse(" 127.0.0.1, 10.0.0.0/8 ,[::1], hooks.internal ")

    assert policy.url_problem("http://127.0.0.1:9000/") is None
    assert policy.url_problem("http://2130706433:9000/") is None  # the same address
    assert policy.url_problem("http://[::ffff:127.0.0.1]/") is None
    assert policy.url_problem("http://10.20.30.40/") is None
    assert policy.url_problem("http://[::1]/") is None
    assert policy.url_problem("http://hooks.internal/") is None
    assert policy.url_problem("http://127.0.0.2/") is not None
    assert policy.url_problem("http://192.168.0.1/") is not None
    assert policy.url_problem("http://localhost/") is not None  # a name is not its address
    assert policy.trusts_name("hooks.internal") and not policy.trusts_name("localhost")


def test_a_bad_allow_list_entry_is_an_error() -> None:
    with pytest.raises(ValueError, match="no address, network or host name"):
        TargetPolicy.parse("127.0.0.1, not a host!")


def test_literal_addresses() -> None:
    assert literal_address("017700000001") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("example.com") is None
    assert literal_address("deadbeef") is None  # a name, not a number
    assert refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert refusal(ipaddress.ip_address("::ffff:8.8.8.8")) is None  # mapped public: public
