"""The steady noise floor of a recording, measured from its spectrum (minimum statistics).

Per frequency bin, a low percentile of the short-time power over the whole analysed span is the power that
is always there (hiss, hum, fan), whatever is said or played over it in between; the median over bins then
ignores the few bins a steady tone occupies. The result is the RMS level (dBFS) of white noise with that
spectral density: the scale of afftdn's `nf` (its full reduction needs `nf` a few dB above it).
"""

from __future__ import annotations

import math
from pathlib import Path

from actors._lazy import np
from actors.media import _ffmpeg as ff
from protocols.tools import ToolCall

RATE = 48000
FRAME = 2048
ANALYSE_S = 60.0  # the first minute is enough for a steady floor and bounds the work on long recordings
PERCENTILE = 10
# the 10th percentile of a bin's power over time, for noise (exponentially distributed power), is
# -ln(0.9) = 0.105 of its mean
PERCENTILE_TO_MEAN = 1 / -math.log1p(-PERCENTILE / 100)
SILENT_DB = -120.0


def floor_db(samples) -> float:
    """White-equivalent RMS level (dBFS) of the steady noise in mono float samples at RATE."""
    if samples.size < FRAME * 4:
        return SILENT_DB
    hop = FRAME // 2
    count = 1 + (samples.size - FRAME) // hop
    window = np.hanning(FRAME).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float32), FRAME)[::hop][:count]
    power = np.empty((count, FRAME // 2 + 1), dtype=np.float32)
    for start in range(0, count, 512):  # in slices: a minute of frames at once would need ~100 MB
        power[start:start + 512] = np.abs(np.fft.rfft(frames[start:start + 512] * window, axis=1)) ** 2
    steady = np.percentile(power[:, 1:-1], PERCENTILE, axis=0) * PERCENTILE_TO_MEAN
    # one bin's power of white noise with variance σ² is σ²·Σw²; all bins together carry σ²
    variance = float(np.median(steady)) / float(np.sum(window.astype(np.float64) ** 2))
    return float(max(SILENT_DB, 10 * np.log10(max(variance, 1e-20))))


async def measure(call: ToolCall, path: Path, duration: float) -> float:
    """Decode up to ANALYSE_S seconds of the first audio stream (mono, RATE) and measure its floor."""
    import trio

    with ff.scratch(call) as folder:
        pcm = folder / "analysis.f32"
        span = min(duration, ANALYSE_S) if duration > 0 else ANALYSE_S
        await ff.run([*ff.inp(path), "-map", "0:a:0", "-vn", "-sn", "-dn", "-t", f"{ANALYSE_S:g}", "-af", "pan=mono|c0=c0",
                      "-ar", str(RATE), "-f", "f32le", ff.out(pcm)], call=call, duration=span, span=(0, 20),
                     message="measuring the noise floor", what="audio")
        samples = np.fromfile(pcm, dtype="<f4")
    return await trio.to_thread.run_sync(floor_db, samples)
