"""The layers import only downwards, and no import circle crosses a layer.

Every explicit import of an rxnats module counts: at module level, under
``if TYPE_CHECKING:`` and inside functions (the graph is tools/structure_metrics.py's).
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "structure_metrics.py"

#: Bottom to top; a module may import from its own layer and the ones below.
LAYERS: list[tuple[str, ...]] = [
    (
        "rxnats._version",
        "rxnats._callable_bool",
        "rxnats.errors",
        "rxnats.events",
        "rxnats.nuid",
        "rxnats.pending",
        "rxnats.auth",
        "rxnats.wire",  # the sans-I/O core (its asyncio edge is the next layer)
    ),
    ("rxnats.reporting", "rxnats.state", "rxnats.msg", "rxnats.wire.aio"),
    ("rxnats.contract",),
    ("rxnats.rx",),
    ("rxnats.subscription",),
    ("rxnats.jetstream",),
    ("rxnats.client",),
]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> int:
    """The layer of ``module`` (the most specific prefix wins); above all: the apps."""
    best, depth = len(LAYERS), -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if _within(module, prefix) and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    return best


@pytest.fixture(scope="module")
def metrics() -> ModuleType:
    spec = importlib.util.spec_from_file_location("structure_metrics", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_layer_map_places_the_modules_it_should() -> None:
    assert layer_of("rxnats.wire.parser") == 0
    assert layer_of("rxnats.wire.aio.writer") == 1
    assert layer_of("rxnats.rx._mixins") == 3
    assert layer_of("rxnats.client.port") == 6
    assert layer_of("rxnats.micro.service") == len(LAYERS)


def test_every_import_goes_down_or_stays_in_its_layer(metrics: ModuleType) -> None:
    imports, _ = metrics.read_imports()
    assert len(imports) > 200  # the reader finds them
    upwards = sorted(
        f"{i.source} -> {i.target} ({i.kind})"
        for i in imports
        if layer_of(i.target) > layer_of(i.source)
    )
    assert upwards == []


def test_no_import_circle_crosses_a_layer(metrics: ModuleType) -> None:
    imports, modules = metrics.read_imports()
    edges: dict[str, set[str]] = defaultdict(set)
    for i in imports:
        edges[i.source].add(i.target)
    crossing = [c for c in metrics.circles(edges, modules) if len({layer_of(m) for m in c}) > 1]
    assert crossing == []


def test_the_circle_finder_finds_circles(metrics: ModuleType) -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert metrics.circles(edges, {"a", "b", "c", "d"}) == [["a", "b", "c"]]
