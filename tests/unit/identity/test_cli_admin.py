"""`lutra admin create-user` / `reset-password` on a DATA_DIR, the way an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from actors.store import schema
from service.auth import verify_password

ROOT = Path(__file__).resolve().parents[3]


def lutra(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "service.cli", "admin", *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=ROOT, timeout=60)


def user_row(data_dir: Path, username: str):
    engine = create_engine(f"sqlite:///{data_dir / 'lutra.db'}")
    with engine.connect() as conn:
        return conn.execute(select(schema.users).where(schema.users.c.username == username)).first()


def test_create_then_reset(tmp_path):
    done = lutra(tmp_path, "create-user", "ops", "--password-stdin", stdin="first-secret-1\n")
    assert done.returncode == 0, done.stderr
    assert "first-secret-1" not in done.stdout + done.stderr
    row = user_row(tmp_path, "ops")
    assert row.role == "admin" and verify_password(row.password_hash, "first-secret-1")
    assert not row.must_change_password

    again = lutra(tmp_path, "create-user", "OPS", "--password-stdin", stdin="another-secret\n")
    assert again.returncode != 0 and "taken" in again.stderr

    reset = lutra(tmp_path, "reset-password", "ops", "--password-stdin", stdin="second-secret-2\n")
    assert reset.returncode == 0, reset.stderr
    row = user_row(tmp_path, "ops")
    assert verify_password(row.password_hash, "second-secret-2") and not verify_password(row.password_hash, "first-secret-1")
    assert row.must_change_password


def test_generated_password_is_printed_once(tmp_path):
    done = lutra(tmp_path, "create-user", "viewer", "--role", "user", "--generate")
    assert done.returncode == 0, done.stderr
    password = done.stdout.strip()
    row = user_row(tmp_path, "viewer")
    assert len(password) >= 16 and verify_password(row.password_hash, password) and row.must_change_password


@pytest.mark.parametrize("args, stdin, message", [
    (("reset-password", "ghost", "--password-stdin"), "long-enough-1\n", "no such user"),
    (("create-user", "x1", "--password-stdin"), "short\n", "at least 8"),
    (("create-user", "x2", "--role", "wizard", "--password-stdin"), "long-enough-1\n", "no such role"),
    (("create-user", "bad name", "--password-stdin"), "long-enough-1\n", "usernames"),
])
def test_operator_errors(tmp_path, args, stdin, message):
    done = lutra(tmp_path, *args, stdin=stdin)
    assert done.returncode != 0 and message in done.stderr
