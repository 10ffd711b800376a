"""API key format, hashing, verification and the Authenticator's cache, over a real store."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import trio
from sqlalchemy import delete, insert, select, update

from actors.store import schema
from actors.store.actor import StoreActor
from service import auth as auth_module
from service.auth import (
    ApiKeyVerifier,
    Authenticator,
    hash_api_key,
    key_lookup_prefix,
    new_api_key,
    verify_api_key_hash,
)
from service.config import Config


def test_key_format_and_hash():
    key = new_api_key()
    assert re.fullmatch(r"si_[0-9a-f]{96}", key)
    assert new_api_key() != key
    stored = hash_api_key(key)
    assert stored.startswith("scrypt$") and key not in stored and key[3:] not in stored
    assert verify_api_key_hash(stored, key)
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")
    assert not verify_api_key_hash(stored, tampered)
    assert hash_api_key(key) != stored  # salted
    assert len(key_lookup_prefix(key)) == 16 and key_lookup_prefix(key) in __import__("hashlib").sha256(key.encode()).hexdigest()
    assert not verify_api_key_hash("garbage", key)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def env(tmp_path, nursery):
    config = Config(data_dir=tmp_path)
    store = StoreActor(config.db_url)
    await store.start()
    await nursery.start(store.run)
    clock = Clock()
    auth = Authenticator(store, config, clock=clock)
    auth.key_verifier = ApiKeyVerifier(store, clock=clock)
    await auth.seed()
    admin_id = await store.call(lambda c: c.execute(select(schema.users.c.id)).scalar())
    return store, auth, clock, admin_id


async def add_key(store, user_id, permissions=None, expires_at=None) -> tuple[str, str]:
    key, key_id = new_api_key(), str(uuid.uuid4())
    await store.call(lambda c: c.execute(insert(schema.api_keys).values(
        id=key_id, user_id=user_id, name="k", prefix=key_lookup_prefix(key), key_hash=hash_api_key(key),
        permissions=permissions, created_at=time.time(), expires_at=expires_at)))
    return key, key_id


async def test_key_resolves_to_owner_with_scope(env):
    store, auth, clock, admin_id = env
    key, key_id = await add_key(store, admin_id, ["tools:use", "settings:read"])
    principal = await auth.resolve(key)
    assert principal is not None
    assert principal.user_id == admin_id and principal.api_key_id == key_id and principal.role == "admin"
    assert principal.permissions == {"tools:use", "settings:read"}
    assert not principal.is_admin  # a scoped admin key is not an admin
    full, _ = await add_key(store, admin_id)
    assert (await auth.resolve(full)).is_admin
    await store.flush()
    used = await store.call(lambda c: c.execute(select(schema.api_keys.c.last_used_at).where(
        schema.api_keys.c.id == key_id)).scalar())
    assert used is not None


async def test_key_never_exceeds_owner(env):
    store, auth, clock, admin_id = env
    user_id = str(uuid.uuid4())
    await store.call(lambda c: c.execute(insert(schema.users).values(
        id=user_id, username="u", password_hash="x", role="user", team_id="default", must_change_password=False,
        disabled=False, created_at=time.time(), updated_at=time.time())))
    key, _ = await add_key(store, user_id, ["tools:use", "users:manage", "settings:write"])
    principal = await auth.resolve(key)
    assert principal.permissions == {"tools:use"}


async def test_bad_expired_and_unknown_keys(env):
    store, auth, clock, admin_id = env
    key, _ = await add_key(store, admin_id, expires_at=clock.now - 1)
    assert await auth.resolve(key) is None
    assert await auth.resolve(new_api_key()) is None
    assert await auth.resolve("si_short") is None
    good, _ = await add_key(store, admin_id)
    assert await auth.resolve(good[:-1] + ("0" if good[-1] != "0" else "1")) is None


async def test_warm_cache_skips_scrypt_and_forget_invalidates(env, monkeypatch):
    store, auth, clock, admin_id = env
    key, key_id = await add_key(store, admin_id)
    calls = []
    real = auth_module.verify_api_key_hash
    monkeypatch.setattr(auth_module, "verify_api_key_hash", lambda *a: calls.append(1) or real(*a))
    assert await auth.resolve(key) is not None
    for _ in range(50):
        assert await auth.resolve(key) is not None
    assert len(calls) == 1  # one scrypt for 51 requests
    await store.call(lambda c: c.execute(delete(schema.api_keys).where(schema.api_keys.c.id == key_id)))
    assert await auth.resolve(key) is not None  # still cached: deletion must call forget_key
    auth.forget_key(key_id)
    assert await auth.resolve(key) is None


async def test_cache_entry_ends_with_the_key(env):
    store, auth, clock, admin_id = env
    key, _ = await add_key(store, admin_id, expires_at=clock.now + 3)
    assert await auth.resolve(key) is not None
    clock.now += 4  # inside the cache TTL, past the key's expiry
    assert await auth.resolve(key) is None


async def test_cache_ttl_and_forget_user(env):
    store, auth, clock, admin_id = env
    key, _ = await add_key(store, admin_id)
    assert (await auth.resolve(key)).role == "admin"
    await store.call(lambda c: c.execute(update(schema.users).values(disabled=True)))
    assert await auth.resolve(key) is not None  # cached
    clock.now += auth.CACHE_TTL_S + 1
    assert await auth.resolve(key) is None  # re-verified: the owner is disabled
    await store.call(lambda c: c.execute(update(schema.users).values(disabled=False)))
    assert await auth.resolve(key) is not None
    await store.call(lambda c: c.execute(update(schema.users).values(role="user")))
    auth.forget_user(admin_id)
    assert (await auth.resolve(key)).role == "user"


async def test_session_principal_carries_the_user_id(env):
    store, auth, clock, admin_id = env
    token, expires, principal = await auth.login("admin", "admin", "127.0.0.1", "pytest")
    assert principal.user_id == admin_id and principal.session_id and principal.session_id != admin_id
    assert principal.expires_at == pytest.approx(expires)
    with pytest.raises(Exception) as err:
        await auth.login("admin", "wrong", None, None)
    assert err.value.code.value == "AUTH_REQUIRED"
    with pytest.raises(Exception) as err:
        await auth.login("nobody", "wrong", None, None)
    assert err.value.code.value == "AUTH_REQUIRED"
    await auth.logout(token)
    assert await auth.resolve(token) is None


async def test_concurrent_cold_verifications(env):
    store, auth, clock, admin_id = env
    key, _ = await add_key(store, admin_id)
    results = []

    async def one():
        results.append(await auth.resolve(key))

    async with trio.open_nursery() as n:
        for _ in range(4):
            n.start_soon(one)
    assert len(results) == 4 and all(r is not None for r in results)


async def test_a_lookup_racing_an_invalidation_is_not_cached(env):
    store, auth, clock, admin_id = env
    release, started = trio.Event(), trio.Event()
    real = auth.key_verifier

    async def slow_verifier(key):
        started.set()
        await release.wait()
        return await real(key)

    auth.key_verifier = slow_verifier
    key, key_id = await add_key(store, admin_id)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(auth.resolve, key)
        await started.wait()
        auth.forget_key(key_id)  # e.g. the key is deleted while its first verification runs
        release.set()
    auth.key_verifier = real
    assert not auth._cache  # the in-flight result was not kept
