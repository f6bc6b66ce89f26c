"""``rxnats.js.*`` has every public name of nats-py 2.16's ``nats.js.*`` modules.

The names are read from the installed nats-py (skipped when it is absent), so the test
follows nats-py rather than a list copied from it. A module's public names are those not
starting with ``_`` that nats-py defines or re-exports from ``nats`` itself, plus its
constants; names it merely imports from the standard library or ``typing`` (``Any``,
``asyncio``, ``dataclass``) are not part of its API. For the classes, every public
attribute and dataclass field must exist on rxnats' class of the same name too.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import re
import types

import pytest

MODULES = ["api", "errors", "client", "kv", "object_store", "manager"]
_CONSTANT_TYPES = (str, bytes, bytearray, int, float, re.Pattern, logging.Logger)


def _public_names(module: types.ModuleType) -> list[str]:
    names = []
    for name in dir(module):
        if name.startswith("_") or name in ("annotations", "TYPE_CHECKING"):
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            if value.__name__.startswith("nats.js"):
                names.append(name)  # e.g. ``from nats.js import api``
            continue
        origin = getattr(value, "__module__", "") or ""
        if origin.startswith("nats") or isinstance(value, _CONSTANT_TYPES):
            names.append(name)
        elif name == "Callback":  # a typing alias nats-py exports for callbacks
            names.append(name)
    return names


def _class_members(cls: type) -> set[str]:
    members = {n for n in dir(cls) if not n.startswith("_")}
    if dataclasses.is_dataclass(cls):
        members |= {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    return members


@pytest.mark.parametrize("name", MODULES)
def test_every_nats_py_name_exists_in_rxnats_js(name: str) -> None:
    nats_module = pytest.importorskip(f"nats.js.{name}", reason="nats-py is not installed")
    ours = importlib.import_module(f"rxnats.js.{name}")
    names = _public_names(nats_module)
    assert len(names) >= 8, names  # the reading of nats-py's module works
    missing = [n for n in names if not hasattr(ours, n)]
    assert not missing, f"rxnats.js.{name} lacks {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_every_nats_py_class_member_exists(name: str) -> None:
    nats_module = pytest.importorskip(f"nats.js.{name}", reason="nats-py is not installed")
    ours = importlib.import_module(f"rxnats.js.{name}")
    gaps: dict[str, list[str]] = {}
    for cls_name in _public_names(nats_module):
        theirs = getattr(nats_module, cls_name)
        mine = getattr(ours, cls_name, None)
        if not inspect.isclass(theirs) or not inspect.isclass(mine):
            continue
        if issubclass(theirs, BaseException) or theirs.__module__.startswith("nats.aio"):
            continue  # exceptions carry no API of their own; Msg/Subscription are core's
        classes = [(cls_name, theirs, mine)]
        for inner in dir(theirs):  # nested classes (KeyValue.Entry, ObjectStore.ObjectResult)
            if not inner.startswith("_") and inspect.isclass(getattr(theirs, inner)):
                nested = getattr(mine, inner, None)
                if inspect.isclass(nested):
                    classes.append((f"{cls_name}.{inner}", getattr(theirs, inner), nested))
        for label, their_cls, my_cls in classes:
            lacking = sorted(_class_members(their_cls) - _class_members(my_cls))
            if lacking:
                gaps[label] = lacking
    assert not gaps, gaps


def test_the_package_names_nats_py_exports() -> None:
    nats_js = pytest.importorskip("nats.js", reason="nats-py is not installed")
    import rxnats.js

    for name in nats_js.__all__:
        assert hasattr(rxnats.js, name), name
