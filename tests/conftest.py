from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# One place for every property test's settings. "ci" is reproducible: the same examples on every run, and a failure
# prints the blob that replays it. "dev" explores fresh examples, fewer of them, for quick runs by hand. Neither has
# a deadline: the machines these run on are shared, so one example's time says little.
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("soak", max_examples=2000, deadline=None, print_blob=True)  # by hand, to hunt
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

TINY = {
    "format": "hwsim-workload",
    "version": 1,
    "name": "tiny",
    "source": "test fixture",
    "batch": 1,
    "datatype_bits": 8,
    "inputs": {"image": [3, 32, 32]},
    "layers": [
        {"name": "conv1", "kind": "conv2d", "inputs": ["image"], "out_channels": 16, "kernel": 3, "padding": 1,
         "batchnorm": True, "activation": "relu"},
        {"name": "pool1", "kind": "pool", "inputs": ["conv1"], "mode": "max", "kernel": 2},
        {"name": "fc", "kind": "fc", "inputs": ["pool1"], "out_features": 10, "bias": True},
    ],
}


@pytest.fixture
def tiny_doc() -> dict:
    """A small valid workload document to mutate."""
    return copy.deepcopy(TINY)


@pytest.fixture
def write_doc(tmp_path):
    """Write a document (or raw text) to a file and return its path."""
    def write(doc, name="w.json") -> Path:
        path = tmp_path / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return path
    return write
