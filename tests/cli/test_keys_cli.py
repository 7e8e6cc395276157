"""`joblane keys` and `joblane tenants` on a real SQLite file: the first admin key is made here."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from joblane.cli.main import cli


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--database", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_list_rotate_revoke(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    secret = run(db, "keys", "create", "--tenant", "demo", "--expires-in", "3600").strip()
    assert secret.startswith("jlk_")

    (line,) = run(db, "keys", "list").splitlines()
    key_id = line.split()[0]
    assert "tenant=demo" in line and "expires=" in line and secret not in line

    new_secret = run(db, "keys", "rotate", key_id, "--grace", "60").strip()
    assert new_secret.startswith("jlk_") and new_secret != secret
    assert len(run(db, "keys", "list", "--tenant", "demo").splitlines()) == 2

    assert "revoked" in run(db, "keys", "revoke", key_id)
    refused = CliRunner().invoke(cli, ["keys", "revoke", key_id, "--database", str(db)])
    assert refused.exit_code == 1 and "not found or already revoked" in refused.output


def test_tenant_settings_set_and_reset(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    shown = run(
        db,
        "tenants",
        "set",
        "acme",
        "--name",
        "Acme",
        "-s",
        "max_running=3",
        "-s",
        "job_types=noop,render",
    )
    assert "max_running=3" in shown and "job_types=('noop', 'render')" in shown

    reset = run(db, "tenants", "set", "acme", "-s", "max_running=default")
    assert "max_running" not in reset and "job_types" in reset
    assert run(db, "tenants", "list").startswith("acme  'Acme'")

    bad = CliRunner().invoke(
        cli, ["tenants", "set", "acme", "-s", "max_running=0", "--database", str(db)]
    )
    assert bad.exit_code == 1 and "settings.max_running" in bad.output
