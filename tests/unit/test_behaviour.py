"""Behaviour unchanged across the restructuring (issue 12): every command of the snapshot writes the same data.

The snapshot (``tests/golden/behaviour/``) was written by ``python -m tests.golden.behaviour`` before the stages
were restructured. Integers (cycles, counts, bytes) must be equal; floats (energies, utilisations) equal to a
relative 1e-9, because a restructured sum may add the same terms in another order. Paths of the run's own files
(``file``, ``out``) are not compared. A key the snapshot lacks may appear (the restructuring made the partial-sum
width a field of the architecture, so ``arch`` gained ``psum_bits``); a key the snapshot has may not go.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.golden.behaviour import HERE, cases, run_case

_PATHS = {"file", "out"}


def _number(text):
    """A CSV cell as the number it holds; any other value as it is."""
    if not isinstance(text, str):
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text


def _differences(expected, actual, where="") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        missing = set(expected) - set(actual)
        found = [f"{where}: keys {sorted(missing)} missing"] if missing else []
        for key in expected.keys() & actual.keys():
            if key not in _PATHS:
                found += _differences(expected[key], actual[key], f"{where}.{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} entries, now {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in _differences(e, a, f"{where}[{i}]")]
    expected, actual = _number(expected), _number(actual)
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and (
                math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(expected)
                                                                                and math.isnan(actual))):
            return []
    elif expected == actual:
        return []
    return [f"{where}: was {expected!r}, now {actual!r}"]


SLOW = {"explore_nasaic_coexplore"}
"""Cases that take more than about 5 s (the NASAIC co-exploration with its baselines: about half a minute)."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(cases())])
def test_behaviour_unchanged(name, tmp_path):
    expected = json.loads((HERE / f"{name}.json").read_text())
    actual = json.loads(json.dumps(run_case(name, tmp_path)))  # the same JSON round trip as the snapshot
    differences = _differences(expected, actual)
    assert not differences, f"{len(differences)} differences, first: " + "; ".join(differences[:5])
