"""The store's repositories on both databases Lutra runs on: what each promises beyond a plain query
(versions counting up, an all-or-nothing quota, a rename carried to the accounts, an expired session
cleaned up on the way) holds on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import uuid

import pytest

from actors.store.actor import make_engine, migrate
from actors.store.repos import audit, files, keys, roles, sessions, teams, users

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'lutra.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("postgres").create_database()
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def add_user(conn, username: str, role: str = "user", team_id: str | None = None) -> str:
    user_id = str(uuid.uuid4())
    users.create(conn, id=user_id, username=username, password_hash="x", role=role, team_id=team_id,
                 must_change_password=False, disabled=False, created_at=NOW, updated_at=NOW)
    return user_id


def new_file(owner: str | None, name: str, size: int, parent=None) -> dict:
    file_id = str(uuid.uuid4())
    return {"id": file_id, "owner_id": owner, "root_id": parent.root_id if parent else file_id,
            "parent_id": parent.id if parent else None, "version": 1, "original_name": name, "stored_name": name,
            "mime_type": "image/png", "size": size, "width": 1, "height": 1, "tool_chain": [], "created_at": NOW}


def test_file_versions_count_up_and_the_quota_is_all_or_nothing(engine):
    with engine.begin() as conn:
        first, = files.add_within_quota(conn, [new_file("u1", "50%_off.png", 400)], 1000)
        second, = files.add_within_quota(conn, [new_file("u1", "50%_off.png", 300, first)], 1000)
        files.add_within_quota(conn, [new_file("u1", "5000 off.png", 100)], 1000)
        assert (first.version, second.version, second.root_id) == (1, 2, first.id)
    with engine.begin() as conn, pytest.raises(files.OverQuota) as over:
        # the first item fits, the second does not: neither is written
        files.add_within_quota(conn, [new_file("u1", "a.png", 100), new_file("u1", "b.png", 150)], 1000)
    assert (over.value.used, over.value.adding, over.value.quota) == (800, 250, 1000)
    with engine.begin() as conn:
        assert files.used_bytes(conn, "u1") == 800 and files.used_bytes(conn, None) == 0
        rows, total = files.latest(conn, "u1", False, "50%_", 10, 0)  # % and _ are literal
        assert total == 1 and [r.id for r in rows] == [second.id]
        assert [r.version for r in files.chain(conn, first.id)] == [1, 2]
        assert sorted(files.delete_chains(conn, [first.id])) == sorted([first.id, second.id])
        assert len(files.all_ids(conn)) == 1


def test_a_role_rename_and_delete_carry_its_accounts(engine):
    with engine.begin() as conn:
        roles.ensure_builtin(conn, {"user": ("Tools", ("tools:use",))}, NOW)
        roles.create(conn, id="r1", name="ops", description="", permissions=["files:own"], builtin=False,
                     created_at=NOW, updated_at=NOW)
        alice = add_user(conn, "alice", role="ops")
        assert roles.name_taken(conn, "OPS") and not roles.name_taken(conn, "OPS", except_id="r1")
        roles.rename(conn, "ops", "operators")
        assert users.by_id(conn, alice).role == "operators" and roles.by_id(conn, "r1").name == "operators"
        assert roles.user_counts(conn) == {"operators": 1}
        identity = users.identity(conn, users.by_id(conn, alice))
        assert identity.permissions == frozenset({"files:own"})
        assert roles.delete_moving_users(conn, "r1", "operators", "user", NOW) == 1
        # a role that is gone acts as `user`
        assert users.identity(conn, users.by_id(conn, alice)).permissions == frozenset({"tools:use"})


def test_team_names_match_ignoring_case_and_exactly_beyond_ascii(engine):
    with engine.begin() as conn:
        assert teams.ensure_default(conn, "default", "Default", NOW) == "default"
        assert teams.ensure_default(conn, "default", "Default", NOW) == "default"  # idempotent
        teams.create(conn, "t2", "Équipe", NOW)
        add_user(conn, "bob", team_id="t2")
        assert teams.by_name(conn, "DEFAULT").id == "default" and teams.by_name(conn, "Équipe").id == "t2"
        assert teams.name_taken(conn, "dEFAULT") and teams.name_taken(conn, "Équipe")
        assert not teams.name_taken(conn, "Équipe", except_id="t2")
        assert teams.member_counts(conn) == {"t2": 1} and teams.names(conn) == {"default": "Default", "t2": "Équipe"}


def test_expired_sessions_find_nothing_and_credentials_go_with_the_account(engine):
    with engine.begin() as conn:
        carol = add_user(conn, "carol")
        sessions.open_session(conn, "s1", "d1", carol, NOW, NOW + 60, "127.0.0.1", "x" * 900)
        sessions.open_session(conn, "s2", "d2", carol, NOW, NOW + 3600, None, None)
        for n in range(3):
            keys.create(conn, id=f"k{n}", user_id=carol, name=f"key {n}", prefix=f"p{n}", key_hash="h",
                        permissions=None, created_at=NOW + n, expires_at=None, last_used_at=None)
        assert sessions.with_user(conn, "d1", NOW + 120) is None  # expired: found nothing, and deleted
        live = sessions.with_user(conn, "d2", NOW + 120)
        assert (live.session_id, live.id, live.username) == ("s2", carol, "carol")
        assert [k.name for k in keys.listing(conn, carol)] == ["key 0", "key 1", "key 2"]
        keys.revoke(conn, "k0")
        assert keys.count_of(conn, carol) == 2 and keys.revoke_all(conn, carol) == 2
        audit.append(conn, {"at": NOW, "action": "USER_DELETED", "actor_id": None, "actor_name": "cli",
                            "target": "carol", "ip": None, "details": {"n": 1}})
        users.delete_with_credentials(conn, carol)
        assert users.by_name(conn, "carol") is None and sessions.with_user(conn, "d2", NOW) is None
        total, entries = audit.page(conn, ["USER_DELETED"], NOW - 1, NOW + 1, 10, 0)
        assert total == 1 and entries[0].details == {"n": 1}
