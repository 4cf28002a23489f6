"""Examples in docstrings are run, so the worked examples stay true."""

from __future__ import annotations

import doctest

import pytest

import hwsim.sim.stepped


@pytest.mark.parametrize("module", [hwsim.sim.stepped])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
