"""Run every notebook in notebooks/ against its own embedded server.

The notebooks use top-level ``await`` (as Jupyter does). Each code cell is compiled with
``PyCF_ALLOW_TOP_LEVEL_AWAIT`` and awaited in this test's event loop, in order, in one
fresh namespace: no kernel is needed. Plots use matplotlib's Agg backend. A notebook's
own ``assert`` statements make this test fail.
"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after choosing the backend

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells: list[str] = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_connection_state.ipynb", "02_rx_pipeline.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
async def test_notebook_runs(path: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    plt.close("all")
    try:
        for index, source in enumerate(code_cells(path)):
            code = compile(
                source, f"{path.name}[cell {index}]", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            result = eval(code, namespace)  # the project's own notebook
            if inspect.iscoroutine(result):
                await result
        assert plt.get_fignums(), "the notebook drew no figure"
    finally:
        plt.close("all")
