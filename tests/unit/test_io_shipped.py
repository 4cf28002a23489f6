"""Every JSON document shipped with hwsim loads through the one reader into its description.

Files are found by globbing, so a new workload, example, dataflow or table is covered without editing this test.
"""

from __future__ import annotations

import json

import pytest

from hwsim.io.document import VERSIONS
from hwsim.io.load import load_file

from tests.conftest import REPO

_GLOBS = ("workloads/*.json", "workloads/spaces/*.json", "examples/**/*.json", "dataflows/*.json",
          "hwsim/cost/tables/*.json")
_NOT_DOCUMENTS = {"hwsim/workload/zoo/published.json"}  # reference counts read by tests only: not an input
SHIPPED = sorted({str(p.relative_to(REPO)) for pattern in _GLOBS for p in REPO.glob(pattern)})


def test_the_globs_find_every_kind_of_file():
    assert len(SHIPPED) >= 30
    assert {json.loads((REPO / f).read_text())["format"] for f in SHIPPED} == set(VERSIONS) - {"hwsim-systolic-array"}


def test_every_json_file_in_the_package_is_a_document_or_known_not_to_be_one():
    package = {str(p.relative_to(REPO)) for p in (REPO / "hwsim").rglob("*.json") if "schemas" not in p.parts}
    assert package - set(SHIPPED) == _NOT_DOCUMENTS
    for name in _NOT_DOCUMENTS:
        assert "format" not in json.loads((REPO / name).read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_loads(name):
    assert load_file(REPO / name) is not None
