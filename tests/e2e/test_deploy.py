"""deploy/: the systemd unit verifies, and the environment file documents every setting."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import fields

import pytest

from service.config import Config
from tests.helpers import ROOT


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed: run ./run setup (deps/core.apt: systemd)")
def test_unit_verifies(tmp_path):
    unit = (ROOT / "deploy" / "lutra.service").read_text().replace("/opt/lutra", str(ROOT))
    (tmp_path / "lutra.service").write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "lutra.service")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_unit_is_hardened():
    unit = (ROOT / "deploy" / "lutra.service").read_text()
    for directive in ("User=lutra", "ProtectSystem=strict", "PrivateTmp=true", "NoNewPrivileges=true",
                      "ReadWritePaths=/var/lib/lutra", "Restart=on-failure", "EnvironmentFile=/etc/lutra/lutra.env"):
        assert directive in unit


def test_env_file_documents_every_setting():
    text = (ROOT / "deploy" / "lutra.env").read_text()
    documented = set(re.findall(r"^#?([A-Z_]+)=", text, flags=re.M))
    assert {f.name.upper() for f in fields(Config)} <= documented
    assert "DATA_DIR=/var/lib/lutra" in text
