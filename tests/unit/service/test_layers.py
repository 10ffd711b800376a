"""The service reaches the database only through the store's repositories (actors/store/repos): no service
module imports the store's tables, its upsert helper or SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVICE = ROOT / "service"

# modules still writing their own SQL; remove an entry once its module is clean (the test fails on a stale
# entry, so this list only shrinks). Empty: every service module goes through the repositories.
NOT_YET: set[str] = set()

FORBIDDEN = ("sqlalchemy", "actors.store.schema", "actors.store.upsert")


def forbidden_imports(source: str) -> list[str]:
    """The forbidden modules a piece of Python source imports, wherever the import statement sits."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from actors.store import schema` names the forbidden module in the alias
            names = [node.module] if _forbidden(node.module) else [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found += [name for name in names if _forbidden(name)]
    return found


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def test_the_check_sees_every_spelling():
    assert forbidden_imports("from actors.store import schema") == ["actors.store.schema"]
    assert forbidden_imports("def f():\n    from sqlalchemy import select\n") == ["sqlalchemy"]
    assert forbidden_imports("import sqlalchemy.exc as e") == ["sqlalchemy.exc"]
    assert forbidden_imports("from actors.store.upsert import upsert") == ["actors.store.upsert"]
    assert forbidden_imports("from actors.store.repos import users\nfrom actors.store.actor import Write") == []


def test_service_modules_do_not_touch_tables():
    offenders: dict[str, list[str]] = {}
    for path in sorted(SERVICE.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        found = forbidden_imports(path.read_text(encoding="utf-8"))
        if found and name not in NOT_YET:
            offenders[name] = found
        if not found and name in NOT_YET:
            offenders[name] = ["(clean now: remove it from NOT_YET)"]
    assert offenders == {}, "service modules must use actors/store/repos, not tables or SQLAlchemy"
