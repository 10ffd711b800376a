"""Realistic inputs for effect tests, made at test time: a soft photo, a noisy recording, a skewed scan...

Each comes with the measurement its tests compare before and after a tool ran, so "the tool did something
in the intended direction" is a number, not a glance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips


def photo_array(scene: str = "coffee") -> np.ndarray:
    """A real photograph (scikit-image's sample data: coffee, chelsea the cat, astronaut), RGB uint8."""
    from skimage import data

    return np.ascontiguousarray(getattr(data, scene)()[..., :3])


def to_vips(array: np.ndarray) -> pyvips.Image:
    return pyvips.Image.new_from_array(np.ascontiguousarray(array)).copy(
        interpretation="b-w" if array.ndim == 2 or array.shape[2] == 1 else "srgb")


def photo(path: Path, scene: str = "coffee") -> Path:
    """The photo as a camera JPEG (quality 92)."""
    to_vips(photo_array(scene)).jpegsave(str(path), Q=92)
    return path


def soft_photo(path: Path, blur: float = 1.5, scene: str = "coffee") -> Path:
    """The photo slightly out of focus (gaussian σ `blur`), saved as a JPEG as a camera would."""
    to_vips(photo_array(scene)).gaussblur(blur).cast("uchar").jpegsave(str(path), Q=92)
    return path


def load(path: Path) -> np.ndarray:
    """Pixels as float HxWxC (RGB without alpha)."""
    image = pyvips.Image.new_from_file(str(path))
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    return image.numpy().astype(float).reshape(image.height, image.width, image.bands)


def luma(path_or_array) -> np.ndarray:
    a = load(path_or_array) if isinstance(path_or_array, Path) else np.asarray(path_or_array, dtype=float)
    if a.ndim == 2:
        return a
    if a.shape[2] < 3:
        return a[..., 0]
    return 0.2126 * a[..., 0] + 0.7152 * a[..., 1] + 0.0722 * a[..., 2]


def detail(path_or_array) -> float:
    """Fine-detail energy: the variance of the 4-neighbour Laplacian of the luma (rises when sharpened,
    falls when blurred or denoised)."""
    a = luma(path_or_array)
    lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float(lap.var())


def colourfulness(path_or_array) -> float:
    """Hasler and Süsstrunk's colourfulness metric (0 for a grey image)."""
    a = load(path_or_array) if isinstance(path_or_array, Path) else np.asarray(path_or_array, dtype=float)
    rg = a[..., 0] - a[..., 1]
    yb = (a[..., 0] + a[..., 1]) / 2 - a[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


# ---- audio -----------------------------------------------------------------------------------------------
RATE = 48000


def tone_with_hiss(seconds: float = 4.0, tone_dbfs: float = -12.0, noise_dbfs: float = -28.0,
                   freq: float = 440.0, seed: int = 5) -> np.ndarray:
    """A steady tone with white noise of the given RMS level under it (mono float samples in -1..1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.sqrt(2) * 10 ** (tone_dbfs / 20) * np.sin(2 * np.pi * freq * t)
    noise = rng.normal(0, 10 ** (noise_dbfs / 20), t.size)
    return tone + noise


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def read_audio(path: Path, rate: int = RATE) -> np.ndarray:
    """Any audio file decoded by ffmpeg to mono float samples."""
    import subprocess

    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(float)


def band_level_db(samples: np.ndarray, low: float, high: float, rate: int = RATE, skip_s: float = 0.5) -> float:
    """RMS level (dBFS) of the part of the spectrum between low and high Hz, past the first `skip_s`
    seconds (adaptive filters settle there)."""
    x = samples[int(skip_s * rate):]
    spectrum = np.fft.rfft(x * np.hanning(x.size))
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    band = (freqs >= low) & (freqs < high)
    window_gain = np.mean(np.hanning(x.size) ** 2)
    power = 2 * np.sum(np.abs(spectrum[band]) ** 2) / (x.size ** 2 * window_gain)
    return float(10 * np.log10(max(power, 1e-20)))
