"""Features / AI bundles: list, install (async job with SSE progress), uninstall, disk usage."""

from __future__ import annotations

import logging
from pathlib import Path

import trio
from quart import Blueprint, current_app

from actors import models
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from service.apidoc import BOOL, ID_PARAM, INT, STR, doc, obj, ref
from service.auth import current_principal, require
from service.responses import json_body, json_response

log = logging.getLogger("lutra.features")

bp = Blueprint("features", __name__)


def _root() -> Path:
    return current_app.lutra.config.data_dir / "models"


def _bundle_json(bundle: models.Bundle, root: Path) -> dict:
    installing = bundle.id in models.installing()
    installed = models.is_installed(bundle.id, root)
    info = models.installed_info(bundle.id, root) if installed else None
    return {
        "id": bundle.id,
        "name": bundle.name,
        "description": bundle.description,
        "status": "installing" if installing else ("installed" if installed else "not_installed"),
        "installed": installed,
        "size": bundle.size,
        "sizeHuman": models.human_size(bundle.size),
        "enabledTools": list(bundle.tools),
        "licence": bundle.licence,
        "offlineSource": bundle.offline,
        "sources": [a.label for a in bundle.artifacts],
        "installedAt": info.get("installedAt") if info else None,
    }


def _known(bundle_id: str) -> models.Bundle:
    from actors import catalog

    catalog.load()  # URL-only bundles register from their tool modules
    bundle = models.BUNDLES.get(bundle_id)
    if bundle is None or bundle.id.startswith("test-"):
        raise ApiError(ErrorCode.NOT_FOUND, f"Unknown feature bundle: {bundle_id}.")
    return bundle


@bp.get("/api/v1/features")
@doc(
    "Features", "AI feature bundles and their install state",
    responses={200: obj({"bundles": {"type": "array", "items": ref("FeatureBundle")}}, ("bundles",))})
@require()
async def list_features():
    from actors import catalog

    catalog.load()
    root = _root()
    bundles = [_bundle_json(b, root) for b in models.BUNDLES.values() if not b.id.startswith("test-")]
    return json_response({"bundles": bundles})


@bp.post("/api/v1/admin/features/<bundle_id>/install")
@doc(
    "Features", "Install a feature bundle (async)",
    "Answers 202 with a job id; follow /api/v1/jobs/{jobId}/progress. `source` installs from a folder "
    "on the server instead of the bundled packages.",
    body=obj({"source": {"type": "string", "description": "Absolute path of a folder on the server"}}),
    body_required=False,
    responses={202: obj({"jobId": STR, "async": BOOL, "bundleId": STR, "progressUrl": STR},
                        ("jobId", "async"))},
    errors=(400, 404, 409), params={"bundle_id": ID_PARAM})
@require("features:manage")
async def install_feature(bundle_id: str):
    services = current_app.lutra
    bundle = _known(bundle_id)
    body = await json_body(required=False)
    source = None
    if isinstance(body, dict) and body.get("source"):
        source = Path(str(body["source"]))
        if not source.is_absolute() or not source.is_dir():
            raise ApiError(ErrorCode.VALIDATION_ERROR, "'source' must be an absolute path to a folder on the server.")
    principal = await current_principal()
    root = _root()
    try:  # `installing` from now on, not from when the install thread starts
        models.reserve(bundle.id)
    except models.BundleError:
        raise ApiError(ErrorCode.CONFLICT, "Another bundle is being installed; try again when it has finished.") from None
    try:
        rec = services.jobs.create(principal.user_id, "feature-install", None)
    except BaseException:
        models.release(bundle.id)
        raise

    async def coordinator():
        def progress(fraction: float, message: str) -> None:
            trio.from_thread.run_sync(lambda: rec.update(status=JobState.PROCESSING, progress=fraction * 100,
                                                         message=message))

        try:
            meta = await trio.to_thread.run_sync(
                lambda: models.install(bundle.id, root, source=source, progress=progress, reserved=True))
        except models.BundleError as err:
            code = ErrorCode.CONFLICT if err.status == 409 else ErrorCode.PROCESSING_FAILED
            services.jobs.finish(rec, JobState.FAILED, error=err.message, code=code.value, http_status=err.status)
            return
        except Exception:
            log.exception("installing bundle %s failed", bundle.id)
            services.jobs.finish(rec, JobState.FAILED, error="The install failed.",
                                 code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
            return
        finally:
            models.release(bundle.id)
        services.jobs.finish(rec, JobState.COMPLETED, result={
            "jobId": rec.id, "bundleId": bundle.id, "status": "installed", "size": meta["size"],
            "enabledTools": list(bundle.tools)})
        _audit("FEATURE_INSTALLED", bundle.id, principal, services)

    rec.update(status=JobState.PROCESSING, progress=0, message="starting")
    services.jobs.spawn(coordinator)
    return json_response({"jobId": rec.id, "async": True, "bundleId": bundle.id,
                          "progressUrl": f"/api/v1/jobs/{rec.id}/progress"}, 202)


@bp.post("/api/v1/admin/features/<bundle_id>/uninstall")
@doc(
    "Features", "Uninstall a feature bundle",
    responses={200: obj({"ok": BOOL, "removed": BOOL}, ("ok",))}, errors=(404, 409, 422),
    params={"bundle_id": ID_PARAM})
@require("features:manage")
async def uninstall_feature(bundle_id: str):
    bundle = _known(bundle_id)
    try:
        removed = await trio.to_thread.run_sync(models.uninstall, bundle.id, _root())
    except models.BundleError as err:
        raise ApiError(ErrorCode.CONFLICT if err.status == 409 else ErrorCode.PROCESSING_FAILED, err.message,
                       status=err.status) from None
    if removed:
        _audit("FEATURE_UNINSTALLED", bundle.id, await current_principal(), current_app.lutra)
    return json_response({"ok": True, "removed": removed})


@bp.get("/api/v1/admin/features/disk-usage")
@doc(
    "Features", "Disk used by installed models",
    responses={200: obj({"totalBytes": INT, "totalSize": INT, "totalHuman": STR,
                         "bundles": {"type": "array", "items": obj({"id": STR, "bytes": INT, "human": STR})}},
                        ("totalBytes",))})
@require("features:manage")
async def disk_usage():
    usage = await trio.to_thread.run_sync(models.disk_usage, _root())
    total = sum(usage.values())
    return json_response({"totalBytes": total, "totalSize": total, "totalHuman": models.human_size(total),
                          "bundles": [{"id": k, "bytes": v, "human": models.human_size(v)}
                                      for k, v in sorted(usage.items())]})


def _audit(action: str, bundle_id: str, principal, services) -> None:
    try:
        from service import audit

        audit.record(action, target=bundle_id, principal=principal, services=services)
    except Exception:  # auditing must never break an install
        log.exception("audit %s failed", action)


async def on_startup(app, services) -> None:
    """A server killed mid-install leaves a temp folder: remove it (the bundle itself was never renamed in)."""
    await trio.to_thread.run_sync(models.cleanup, services.config.data_dir / "models")
