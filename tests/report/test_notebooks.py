"""The walkthrough notebooks execute (so they never rot) and are committed clean, as built."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["journalist-walkthrough.ipynb", "researcher-tables.ipynb"]


def load_build():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 1, "the charts were drawn"


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_and_as_built(name: str) -> None:
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    built = load_build().build(name)
    assert [c.source for c in committed.cells] == [c.source for c in built.cells], (
        "notebook differs from notebooks/build.py; run `python notebooks/build.py`"
    )
