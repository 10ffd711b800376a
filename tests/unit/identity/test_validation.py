"""Settings validation, audit scrubbing, time helpers."""

from __future__ import annotations

import pytest

from protocols.errors import ApiError
from service.audit import scrub
from service.auth import iso_time, parse_iso_time
from service.routes.settings import validate_updates


def test_known_settings_are_typed():
    assert validate_updates({"disabledTools": ["resize", "crop", "resize"]}) == {"disabledTools": ["crop", "resize"]}
    assert validate_updates({"disabledTools": '["compress"]'}) == {"disabledTools": ["compress"]}
    assert validate_updates({"enableExperimentalTools": "true", "auditToolOperations": False}) == {
        "enableExperimentalTools": True, "auditToolOperations": False}
    assert validate_updates({"loginAttemptLimit": "7"}) == {"loginAttemptLimit": 7}
    assert validate_updates({"settings": {"loginAttemptLimit": 3}}) == {"loginAttemptLimit": 3}


@pytest.mark.parametrize("body, path", [
    ({"nope": 1}, "nope"),
    ({"disabledTools": ["no-such-tool"]}, "disabledTools"),
    ({"disabledTools": "resize"}, "disabledTools"),
    ({"disabledTools": [1, 2]}, "disabledTools"),
    ({"enableExperimentalTools": "yes please"}, "enableExperimentalTools"),
    ({"loginAttemptLimit": 0}, "loginAttemptLimit"),
    ({"loginAttemptLimit": 2.5}, "loginAttemptLimit"),
    ({"loginAttemptLimit": True}, "loginAttemptLimit"),
    ({"auditToolOperations": 1}, "auditToolOperations"),
])
def test_bad_settings_are_refused(body, path):
    with pytest.raises(ApiError) as err:
        validate_updates(body)
    assert err.value.status == 400 and err.value.details[0]["path"] == path


def test_empty_or_not_an_object():
    for body in ({}, [], "x"):
        with pytest.raises(ApiError):
            validate_updates(body)


def test_scrub_removes_secrets():
    details = {"username": "a", "password": "p", "newPassword": "q", "key": "si_" + "a" * 96, "token": "t",
               "apiKeyId": "id", "nested": [{"keyHash": "h", "ok": 1}], "value": "si_" + "b" * 96}
    clean = scrub(details)
    assert clean == {"username": "a", "apiKeyId": "id", "nested": [{"ok": 1}], "value": "si_***"}


def test_iso_times():
    assert iso_time(0) == "1970-01-01T00:00:00Z" and iso_time(None) is None
    assert parse_iso_time("1970-01-02") == 86400
    assert parse_iso_time("1970-01-01T01:00:00Z") == 3600
    assert parse_iso_time("1970-01-01T02:00:00+01:00") == 3600
    with pytest.raises(ValueError):
        parse_iso_time("yesterday")


def test_nvidia_smi_parsing():
    from service.routes.admin import parse_nvidia_smi

    text = "NVIDIA H200, 143771, 1024, 550.54.15\nNVIDIA H200, 143771, [N/A], 550.54.15\n\n"
    devices = parse_nvidia_smi(text)
    assert devices[0] == {"name": "NVIDIA H200", "memoryTotalMb": 143771.0, "memoryUsedMb": 1024.0, "driver": "550.54.15"}
    assert devices[1]["memoryUsedMb"] is None and parse_nvidia_smi("") == []


async def test_unknown_users_pay_for_a_password_check(tmp_path, nursery, monkeypatch):
    """Rejecting an unknown username runs the same argon2 verification as a wrong password."""
    from actors.store.actor import StoreActor
    from service import auth as auth_module
    from service.auth import Authenticator
    from service.config import Config

    config = Config(data_dir=tmp_path)
    store = StoreActor(config.db_url)
    await store.start()
    await nursery.start(store.run)
    auth = Authenticator(store, config)
    await auth.seed()
    seen = []
    real = auth_module.verify_password
    monkeypatch.setattr(auth_module, "verify_password", lambda stored, pw: seen.append(stored) or real(stored, pw))
    for username in ("admin", "nobody"):
        with pytest.raises(ApiError) as err:
            await auth.login(username, "wrong", None, None)
        assert err.value.code.value == "AUTH_REQUIRED"
    assert len(seen) == 2 and seen[0].startswith("$argon2") and seen[1] is None  # None -> the dummy hash
