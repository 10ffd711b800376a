"""`_name` means private to its family: a tool family (actors/<family>/) imports another family's modules
only where they are public, and what several families share lives in actors/common/ under a public name.
The service and the load harness belong to no family: they use public modules only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FAMILIES = ("image", "media", "documents", "data", "vision", "speech", "store", "models")


def owner(path: Path) -> str:
    """The family a module under actors/ belongs to ('' for actors/*.py, actors/common/ and anything outside
    actors/, such as service/ and load/)."""
    if not path.is_relative_to(ROOT / "actors"):
        return ""
    parts = path.relative_to(ROOT / "actors").parts
    return parts[0] if len(parts) > 1 and parts[0] in FAMILIES else ""


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports, as dotted names: `from a.b import _c` counts as a.b._c (it may be a
    module), relative imports are left out (none of the families uses them)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def private_imports_across_families(path: Path, source: str) -> list[str]:
    bad = []
    mine = owner(path)
    for line, name in imported(ast.parse(source, str(path))):
        parts = name.split(".")
        if len(parts) < 3 or parts[0] != "actors" or parts[1] not in FAMILIES or parts[1] == mine:
            continue
        if any(p.startswith("_") and not p.startswith("__") for p in parts[2:]):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def test_no_family_imports_another_familys_private_modules():
    bad = [line for path in sorted((ROOT / "actors").rglob("*.py"))
           for line in private_imports_across_families(path, path.read_text())]
    assert bad == [], "move what families share into actors/common/ under a public name:\n" + "\n".join(bad)


def private_imports_from_outside(path: Path, source: str) -> list[str]:
    """Imports of a private module of service/ or load/ (`service.routes._identity`) from a module outside
    the package that holds it."""
    bad = []
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for line, name in imported(ast.parse(source, str(path))):
        parts = name.split(".")
        if parts[0] not in ("service", "load"):
            continue
        for i, part in enumerate(parts[1:], 1):
            owner_package = ".".join(parts[:i])
            if part.startswith("_") and not part.startswith("__") and not (
                    package == owner_package or package.startswith(owner_package + ".")):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
                break
    return bad


@pytest.mark.parametrize("top", ["service", "load"])
def test_service_and_load_import_no_private_module_of_another_package(top):
    bad = [line for path in sorted((ROOT / top).rglob("*.py"))
           for line in (private_imports_across_families(path, path.read_text())
                        + private_imports_from_outside(path, path.read_text()))]
    assert bad == [], "give what these callers need a public module or function:\n" + "\n".join(bad)


@pytest.mark.parametrize("source, expected", [
    ("from actors.image import _vips as v\n", True),
    ("from actors.documents._pdf import opened\n", True),
    ("import actors.media._ffmpeg\n", True),
    ("from actors.vision import _img\n", False),  # its own family
    ("from actors.common import imageio\n", False),
    ("from actors.documents import pdf_to_text\n", False),
])
def test_the_check_sees_each_form_of_import(source, expected):
    module = ROOT / "actors" / "vision" / "some_tool.py"
    assert bool(private_imports_across_families(module, source)) is expected


@pytest.mark.parametrize("source, expected", [
    ("from actors.image import _memes\n", True),
    ("from actors.vision._ocr import ppocr_engine\n", True),
    ("from actors.media import ffprobe, trim_video\n", False),
    ("from actors import _lazy\n", False),  # actors/*.py is the runtime, not a family
])
def test_the_check_holds_service_modules_to_public_names(source, expected):
    module = ROOT / "service" / "routes" / "some_route.py"
    assert bool(private_imports_across_families(module, source)) is expected


@pytest.mark.parametrize("importer, source, expected", [
    ("service/cli_admin.py", "from service.routes._identity import USERNAME\n", True),
    ("service/routes/users.py", "from service.routes._identity import not_found\n", False),  # its package
    ("service/routes/users.py", "from service.auth import USERNAME\n", False),
    ("load/bench.py", "from load.harness import _private\n", True),
    ("load/harness/server.py", "from load.harness._private import x\n", False),
])
def test_the_check_keeps_private_modules_inside_their_package(importer, source, expected):
    assert bool(private_imports_from_outside(ROOT / importer, source)) is expected
