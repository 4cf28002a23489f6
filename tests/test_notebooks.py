"""Every shipped notebook runs from top to bottom without an error."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

pytestmark = pytest.mark.notebook

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
HARDWARE = {"rtl_vs_model.ipynb"}
"""Notebooks that build and simulate generated RTL (Verilator): marked ``rtl`` as well."""


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name, marks=[pytest.mark.rtl] if p.name in HARDWARE else [])
                                  for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel inherits this environment: every notebook writes its results and builds under tmp_path, never in
    # the checkout, so suites can run side by side.
    monkeypatch.setenv("HWSIM_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("HWSIM_RTL_BUILD_ROOT", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
