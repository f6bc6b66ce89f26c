"""The sans-I/O core imports no I/O, concurrency or clock module, and only itself from rxnats."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rxnats
import rxnats.wire

WIRE_DIR = Path(rxnats.wire.__file__).parent
PACKAGE_DIR = Path(rxnats.__file__).parent

#: module name -> source file: every module of rxnats/wire/ outside its asyncio edge
#: (rxnats/wire/aio/), and the error tree they raise from.
SANS_IO: dict[str, Path] = {
    **{
        f"rxnats.wire.{path.stem}": path
        for path in sorted(WIRE_DIR.glob("*.py"))
        if path.name != "__init__.py"
    },
    "rxnats.wire": WIRE_DIR / "__init__.py",
    "rxnats.errors": PACKAGE_DIR / "errors.py",
}

FORBIDDEN = frozenset({"asyncio", "socket", "ssl", "selectors", "time", "threading"})


def imports_in_source(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, with relative imports resolved against ``module``."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep])
                target = f"{base}.{node.module}" if node.module else base
            else:
                assert node.module is not None
                target = node.module
            names.add(target)
            # ``from rxnats.wire import parser`` imports a submodule.
            names.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def imported_modules(module: str, path: Path) -> set[str]:
    return imports_in_source(
        module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
    )


def test_every_sans_io_file_exists() -> None:
    for path in SANS_IO.values():
        assert path.is_file(), path
    # The asyncio edge is the aio package; every other module of wire/ is covered here.
    assert {"rxnats.wire.handshake", "rxnats.wire.keepalive", "rxnats.wire.policy"} <= SANS_IO.keys()
    assert not any(name.startswith("rxnats.wire.aio") for name in SANS_IO)


@pytest.mark.parametrize("module", sorted(SANS_IO))
def test_no_io_imports(module: str) -> None:
    imports = imported_modules(module, SANS_IO[module])
    bad = {name for name in imports if name.split(".")[0] in FORBIDDEN}
    assert not bad, f"{module} imports {sorted(bad)}"


def _resolve_internal(name: str) -> str | None:
    """The rxnats module ``name`` refers to, or ``None`` for an attribute of a module."""
    if name in SANS_IO:
        return name
    parts = name.split(".")
    pkg = PACKAGE_DIR.parent
    as_module = pkg.joinpath(*parts).with_suffix(".py")
    as_package = pkg.joinpath(*parts, "__init__.py")
    if as_module.is_file() or as_package.is_file():
        return name
    return None  # e.g. rxnats.errors.ProtocolError: a name imported from a module


@pytest.mark.parametrize("module", sorted(SANS_IO))
def test_internal_imports_stay_in_sans_io_core(module: str) -> None:
    imports = imported_modules(module, SANS_IO[module])
    internal = {
        resolved
        for name in imports
        if name == "rxnats" or name.startswith("rxnats.")
        if (resolved := _resolve_internal(name)) is not None
    }
    outside = internal - SANS_IO.keys()
    assert not outside, f"{module} imports {sorted(outside)} outside the sans-I/O core"


def test_import_finder_sees_forbidden_imports() -> None:
    # Guard against a finder that silently finds nothing.
    source = (
        "import asyncio\n"
        "import os.path, socket as s\n"
        "from time import monotonic\n"
        "from . import transport\n"
        "from .writer import Writer\n"
        "from .. import errors\n"
        "def f():\n    import threading\n"
    )
    names = imports_in_source("rxnats.wire.fake", source)
    assert {"asyncio", "os.path", "socket", "time", "threading"} <= names
    assert {"rxnats.wire.transport", "rxnats.wire.writer", "rxnats.errors"} <= names
    assert "rxnats.wire.transport" in imports_in_source(
        "rxnats.wire", "from .transport import X\n", is_package=True
    )
