"""The signed cookies, pure: what a session holds, and what forged, altered or expired ones
and borrowed CSRF tokens get."""

from __future__ import annotations

from joblane.dashboard.session import SESSION_SECONDS, Signer

SIGNER = Signer(b"k" * 32)


def test_session_round_trip_holds_the_key_id_not_the_key() -> None:
    session, cookie = SIGNER.new_session("key_01", 1000.0)
    assert SIGNER.session(cookie, 1001.0) == session
    assert session.expires_at == 1000.0 + SESSION_SECONDS
    assert "jlk_" not in cookie


def test_expired_session_is_refused() -> None:
    _, cookie = SIGNER.new_session("key_01", 1000.0)
    assert SIGNER.session(cookie, 1000.0 + SESSION_SECONDS) is None


def test_altered_or_foreign_cookies_are_refused() -> None:
    _, cookie = SIGNER.new_session("key_01", 1000.0)
    head, tail = cookie.split(".")
    _, other = SIGNER.new_session("key_02", 1000.0)
    assert SIGNER.session(other.split(".")[0] + "." + tail, 1001.0) is None  # swapped payload
    assert SIGNER.session(cookie, 1001.0) is not None
    assert Signer(b"x" * 32).session(cookie, 1001.0) is None  # another server's secret
    for junk in ("", ".", "abc", head, f"{head}.", "!!.!!", f"{head}.{tail}x"):
        assert SIGNER.session(junk, 1001.0) is None


def test_a_flash_never_passes_for_a_session() -> None:
    flash = SIGNER.sign("flash", ["key_01", 99999999999.0, "nonce"])
    assert SIGNER.session(flash, 1001.0) is None


def test_csrf_token_is_bound_to_its_session() -> None:
    one, _ = SIGNER.new_session("key_01", 1000.0)
    two, _ = SIGNER.new_session("key_01", 1000.0)
    assert SIGNER.csrf_ok(one, SIGNER.csrf_token(one))
    assert not SIGNER.csrf_ok(one, SIGNER.csrf_token(two))
    assert not SIGNER.csrf_ok(one, None)
    assert not SIGNER.csrf_ok(one, "")


def test_flash_round_trip_and_tamper() -> None:
    cookie = SIGNER.flash("Job cancelled.", "ok")
    assert SIGNER.read_flash(cookie) == ("ok", "Job cancelled.")
    assert SIGNER.read_flash(cookie[:-2] + "AA") is None
    assert SIGNER.read_flash(None) is None
