"""Helpers for the media tests: generate media with ffmpeg, inspect results with ffprobe or by decoding."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

SUBTITLES_SRT = """1
00:00:00,000 --> 00:00:02,500
Héllo: "world" it's \\ ok

2
00:00:02,500 --> 00:00:03,000
Second [line], done; 日本
"""


def ffmpeg(*args: str, timeout: float = 60) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True,
                   timeout=timeout)


def probe(path: Path) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                           str(path)], capture_output=True, check=True, timeout=30)
    return json.loads(done.stdout)


def duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


def streams(path: Path, kind: str) -> list[dict]:
    return [s for s in probe(path)["streams"] if s["codec_type"] == kind]


def video(path: Path) -> dict:
    return streams(path, "video")[0]


def audio(path: Path) -> dict:
    return streams(path, "audio")[0]


def rate(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)


def frames_gray(path: Path, size: tuple[int, int] = (64, 48), extra: list[str] | None = None) -> np.ndarray:
    """Every frame decoded as small grayscale arrays: shape (n, h, w)."""
    w, h = size
    done = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *(extra or []), "-vf", f"scale={w}:{h}",
                           "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True, timeout=60)
    data = np.frombuffer(done.stdout, dtype=np.uint8)
    return data.reshape(-1, h, w).astype(np.int16)


def frame_rgb(path: Path, at: float = 0.0) -> np.ndarray:
    """One frame at full size as an (h, w, 3) array."""
    info = video(path)
    w, h = int(info["width"]), int(info["height"])
    done = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True, timeout=60)
    return np.frombuffer(done.stdout, dtype=np.uint8)[: w * h * 3].reshape(h, w, 3).astype(np.int16)


def pcm(path: Path, rate_hz: int = 16000, channels: int = 1, extra: list[str] | None = None) -> np.ndarray:
    """Decoded audio as float samples (n, channels)."""
    done = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *(extra or []), "-f", "s16le", "-ac",
                           str(channels), "-ar", str(rate_hz), "-"], capture_output=True, check=True, timeout=60)
    return np.frombuffer(done.stdout, dtype="<i2").reshape(-1, channels).astype(np.float64) / 32768.0


def dominant_hz(samples: np.ndarray, rate_hz: int = 16000) -> float:
    """The strongest frequency of a mono signal."""
    window = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(window))
    return float(np.fft.rfftfreq(len(samples), 1 / rate_hz)[int(np.argmax(spectrum))])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def loudness_lufs(path: Path) -> float:
    """Integrated loudness by ffmpeg's ebur128 meter."""
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af",
                           "ebur128", "-f", "null", "-"], capture_output=True, timeout=60)
    text = done.stderr.decode()
    tail = text[text.rfind("Integrated loudness:"):]
    line = next(ln for ln in tail.splitlines() if ln.strip().startswith("I:"))
    return float(line.split()[1])


def build(folder: Path) -> Path:
    """Small media made once per session (2-3 s, small sizes) so the suite stays fast."""
    lavfi_v = "testsrc2=s=320x240:r=25:d=3"
    stereo = "sine=f=440:d=3:sample_rate=44100"
    ffmpeg("-f", "lavfi", "-i", lavfi_v, "-f", "lavfi", "-i", stereo, "-filter_complex", "[1:a]pan=stereo|c0=c0|c1=c0[a]",
           "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "96k", "-metadata", "title=Secret title", "-metadata", "comment=private note",
           "-metadata", "location=+48.8577+002.2950/", "-movflags", "+faststart", str(folder / "clip.mp4"))
    # the same without faststart (moov at the end), then cut in half: a truncated MP4
    ffmpeg("-i", str(folder / "clip.mp4"), "-c", "copy", str(folder / "slow.mp4"))
    data = (folder / "slow.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(folder / "silent.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=15:d=2", "-f", "lavfi", "-i", "sine=f=660:d=2",
           "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus",
           str(folder / "clip.webm"))
    # a different-size, different-rate clip for merging
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=160x160:r=30:d=1.5", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(folder / "square.mp4"))
    # audio
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=44100", "-c:a", "pcm_s16le", str(folder / "tone.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=44100", "-c:a", "libmp3lame", "-b:a", "128k",
           "-metadata", "title=Old", "-metadata", "artist=Someone", str(folder / "tone.mp3"))
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2", "-f", "lavfi", "-i", "sine=f=1000:d=2", "-filter_complex",
           "[0:a][1:a]join=inputs=2:channel_layout=stereo[a]", "-map", "[a]", "-c:a", "pcm_s16le",
           str(folder / "left440_right1000.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=f=1000:d=1.5:sample_rate=44100", "-c:a", "aac", str(folder / "beep.m4a"))
    # tone 1 s, silence 1.5 s, tone 1 s
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=44100", "-f", "lavfi", "-i",
           "anullsrc=r=44100:cl=mono:d=1.5", "-f", "lavfi", "-i", "sine=f=660:d=1:sample_rate=44100",
           "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]", "-map", "[a]", "-c:a", "pcm_s16le",
           str(folder / "gap.wav"))
    # amplitude rising from 0 to full over 2 s: reversing it makes it fall
    ffmpeg("-f", "lavfi", "-i", "aevalsrc='0.9*t/2*sin(2*PI*440*t)':s=44100:d=2", "-c:a", "pcm_s16le",
           str(folder / "ramp.wav"))
    # a tone in steady white noise
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=44100", "-f", "lavfi", "-i",
           "anoisesrc=d=2:c=white:r=44100:a=0.08:seed=7", "-filter_complex",
           "[0:a]volume=0.5[t];[t][1:a]amix=inputs=2:normalize=0[a]", "-map", "[a]", "-c:a", "pcm_s16le",
           str(folder / "noisy.wav"))
    # quiet speech for loudness normalisation
    subprocess.run(["espeak-ng", "-w", str(folder / "speech_raw.wav"), "-s", "160",
                    "Lutra normalises loudness. This sentence is spoken a little quietly for the test."],
                   check=True, timeout=60)
    ffmpeg("-i", str(folder / "speech_raw.wav"), "-af", "volume=-14dB", "-ar", "44100", "-c:a", "pcm_s16le",
           str(folder / "speech.wav"))
    # a video with quiet speech as its audio
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=15", "-i", str(folder / "speech.wav"), "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(folder / "speech.mp4"))
    (folder / "subs.srt").write_text(SUBTITLES_SRT, encoding="utf-8")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=120x90:r=10:d=1", "-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse",
           str(folder / "anim.gif"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=200x100:d=1", "-frames:v", "1", str(folder / "still.png"))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=100x150:d=1", "-frames:v", "1", str(folder / "red.png"))
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.txt").write_text("not media at all\n")
    return folder
