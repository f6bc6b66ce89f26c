"""Every notebook in notebooks/ runs under a real Jupyter kernel, and keeps to the rules.

nbclient starts an IPython kernel of this very Python (a kernel spec written for the
test), runs each notebook's cells in order and fails on the first error; the notebooks'
own ``assert`` statements check their story (counts, never timings). The rules: cells
have ids, the notebooks use public API only (no ``._name``), and README and the docs
link to each of them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[dev]' (nbformat, nbclient, ipykernel)")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[dev]' (nbclient)")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "rxnats-test-kernel"


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in notebook["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_connection_state.ipynb", "02_rx_pipeline.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_with_cell_ids_and_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)  # nbformat 4.5+: every cell has an id
    ids = [cell["id"] for cell in notebook.cells]
    assert len(set(ids)) == len(ids) and all(ids)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_public_api_only(path: Path) -> None:
    private = [m.group() for source in code_cells(path) for m in re.finditer(r"\w\._[a-z]\w*", source)]
    assert private == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_and_docs_link_to_the_notebook(path: Path) -> None:
    assert f"notebooks/{path.name}" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"notebooks/{path.name}" in (ROOT / "docs" / "notebooks.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernel spec that runs this interpreter, and private Jupyter directories."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "data" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rxnats tests",
        "language": "python",
    }), encoding="utf-8")
    return home


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_jupyter_kernel(
    path: Path, jupyter_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_env / "data"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter_env / "data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter_env / "runtime"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(jupyter_env / "config"))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name=KERNEL, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {mime for o in outputs for mime in o.get("data", {})}
    assert "image/png" in kinds  # the plots (and the live chart) were drawn
    if path.name.startswith("01"):
        html = " ".join(str(o["data"].get("text/html", "")) for o in outputs if "data" in o)
        assert ": CLOSED</span>" in html  # the live badge's last state was kept in the output
