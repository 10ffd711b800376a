"""The settings of several nodes: role, capacities, storage root, and the worker node's deploy files."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from service.config import Config
from tests.helpers import ROOT

PG = {"DATABASE_URL": "postgresql://lutra@db/lutra"}


def test_the_queue_is_on_only_with_postgres():
    assert not Config.from_env({}).clustered
    assert Config.from_env(PG).clustered
    assert Config.from_env({"DATABASE_URL": "postgres://lutra@db/lutra"}).clustered
    assert not Config.from_env({**PG, "JOB_QUEUE": "off"}).clustered


def test_capacities_per_family_and_roles():
    config = Config.from_env({**PG, "CAPACITIES": "image=4, vision=0", "CONCURRENT_JOBS": "3"})
    assert (config.family_capacity("image"), config.family_capacity("vision"), config.family_capacity("media")) \
        == (4, 0, 3)
    web = Config.from_env({**PG, "CAPACITIES": "image=4"}, role="web")
    assert web.family_capacity("image") == 0 and web.family_capacity("media") == 0


def test_storage_root_holds_the_workspace(tmp_path):
    config = Config.from_env({**PG, "DATA_DIR": str(tmp_path / "own"), "STORAGE_ROOT": str(tmp_path / "shared")})
    assert config.workspace == tmp_path / "shared" / "workspace"
    assert Config.from_env({"DATA_DIR": str(tmp_path)}).workspace == tmp_path / "workspace"


@pytest.mark.parametrize(("env", "variable"), [
    ({**PG, "ROLE": "boss"}, "ROLE"),
    ({**PG, "CAPACITIES": "image"}, "CAPACITIES"),
    ({**PG, "CAPACITIES": "image=many"}, "CAPACITIES"),
    ({**PG, "JOB_QUEUE": "maybe"}, "JOB_QUEUE"),
    ({"ROLE": "worker"}, "ROLE=web or worker"),  # a worker without the shared queue would never get work
])
def test_meaningless_values_are_refused_at_start(env, variable):
    with pytest.raises(SystemExit, match=variable):
        Config.from_env(env)


def test_worker_unit_and_env_file():
    unit = (ROOT / "deploy" / "lutra-worker.service").read_text()
    assert "ExecStart=/opt/lutra/.venv/bin/lutra serve --role worker" in unit
    assert "EnvironmentFile=/etc/lutra/lutra-worker.env" in unit
    assert "ProtectSystem=strict" in unit and "User=lutra" in unit
    env = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / "deploy" / "lutra-worker.env").read_text(), flags=re.M))
    assert set(env) <= {f.name.upper() for f in fields(Config)}
    config = Config.from_env(env, role="worker")
    assert config.clustered and config.role == "worker"
    assert config.family_capacity("vision") == 1 and str(config.storage) in unit  # ReadWritePaths covers it
