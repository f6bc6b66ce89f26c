"""The package is ready to publish: ``python -m build`` makes a wheel and an sdist that
``twine check`` accepts, with SPDX license metadata, the license file, the classifiers,
``py.typed``, and nothing that does not belong; the wheel installs and runs."""

from __future__ import annotations

import email
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT = 600

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None or shutil.which("twine", path=str(Path(sys.executable).parent)) is None,
    reason="pip install -e '.[dev]' (build, twine)",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def _one(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


def _metadata(dist: Path) -> Message:
    with zipfile.ZipFile(_one(dist, "rxnats-*.whl")) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(wheel.read(name))


def test_twine_check_accepts_both(dist: Path) -> None:
    files = [str(p) for p in sorted(dist.iterdir())]
    assert len(files) == 2, files
    twine = Path(sys.executable).parent / "twine"
    result = subprocess.run([str(twine), "check", "--strict", *files], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_metadata_has_the_spdx_license_and_the_python_versions(dist: Path) -> None:
    meta = _metadata(dist)
    assert meta["Metadata-Version"] >= "2.4"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = meta.get_all("Classifier") or []
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX field replaces them
    assert {"server", "notebooks", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    assert "rxnats" in (meta.get_payload() or "")  # the README is the long description


def test_wheel_holds_the_package_and_its_license_only(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "rxnats-*.whl")) as wheel:
        names = wheel.namelist()
        license_text = next(wheel.read(n) for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    assert license_text == (ROOT / "LICENSE").read_bytes()
    for expected in ("rxnats/py.typed", "rxnats/cli/__init__.py", "rxnats/cli/stream.py",
                     "rxnats/notebook.py", "rxnats/testing/plugin.py"):
        assert expected in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "docs/", "benchmarks/"))]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(_one(dist, "rxnats-*.whl")) as wheel:
        text = wheel.read(entry_points).decode()
    assert "rxnats = rxnats.cli:main" in text and "rxnats = rxnats.testing.plugin" in text


def test_sdist_holds_the_sources_license_and_no_local_clutter(dist: Path) -> None:
    with tarfile.open(_one(dist, "rxnats-*.tar.gz")) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    for expected in ("LICENSE", "README.md", "pyproject.toml", "rxnats/__init__.py", "rxnats/py.typed"):
        assert expected in names
    assert not [n for n in names if n.startswith((".venv", ".git/", "site/", "dist/")) or "__pycache__" in n]


def test_the_wheel_installs_and_runs_in_a_fresh_virtualenv(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    wheel = _one(dist, "rxnats-*.whl")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    version = subprocess.run([str(venv / "bin" / "rxnats"), "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.returncode == 0 and version.stdout.startswith("rxnats "), version.stderr
    # without the notebooks extra, rxnats.notebook imports, and using it names the extra
    probe = (
        "import rxnats.notebook as nb\n"
        "try:\n    nb.events_frame([])\nexcept ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "pip install 'rxnats[notebooks]'" in result.stdout
