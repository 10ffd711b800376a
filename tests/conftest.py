"""Shared fixtures: one real server per test worker (xdist) and generated input files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Server


@pytest.fixture(scope="session", autouse=True)
def _postgres_cluster_cleanup():
    """The PostgreSQL cluster that tests start on demand (tests/pg.py) is stopped and removed at the end."""
    yield
    from tests import pg

    pg.stop_shared_cluster()


@pytest.fixture(autouse=True)
def _pillow_truncated_images_flag():
    """Tests that run html/markdown-to-pdf in the pytest process import WeasyPrint there, which sets Pillow's
    process-wide LOAD_TRUNCATED_IMAGES for good. A server renders HTML only in the documents actor's own
    workers (tests/api/test_documents.py checks it); here the flag is put back after each test, so that a
    later image test in this process sees Pillow as an image worker does."""
    yield
    import sys

    image_file = sys.modules.get("PIL.ImageFile")
    if image_file is not None:
        image_file.LOAD_TRUNCATED_IMAGES = False


@pytest.fixture(scope="session")
def postgres():
    """This test process's throwaway PostgreSQL cluster (skips the test where PostgreSQL is not installed)."""
    from tests import pg

    if pg.pg_bindir() is None:
        pytest.skip("PostgreSQL is not installed (deps/pg.apt)")
    return pg.shared_cluster()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """A real server (SKIP_MUST_CHANGE_PASSWORD=true), shared by the whole session of this worker."""
    srv = Server(tmp_path_factory.mktemp("server") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def make_server(tmp_path_factory):
    """Start extra servers with other settings; each is stopped at the end of the session."""
    started: list[Server] = []

    def make(**env: str) -> Server:
        srv = Server(tmp_path_factory.mktemp("server") / "data", {k.upper(): str(v) for k, v in env.items()}).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture()
def client(server):
    with server.client() as c:
        yield c


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Path:
    """A folder of generated sample inputs (see tests/samples.py)."""
    from tests import samples as s

    return s.build(tmp_path_factory.mktemp("samples"))
