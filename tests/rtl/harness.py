"""Running the one cocotb bench (:mod:`rtl.bench`) on a Verilator build, as every engine test does.

The work is :func:`rtl.cosim.run_bench` (the one way a Verilator run of an engine happens in hwsim); this wrapper
turns its failure -- the scoreboard's first mismatch, with case, cycle, lane, values and the replay seed -- into a
failed test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl.cosim import CosimError, run_bench as _run_bench


def run_bench(*, verilog: Path, stem: str, bdir: Path, cases: Path, seed: int) -> list[dict]:
    """Build ``verilog`` in ``bdir`` (reused when unchanged) and run the bench on the GEMMs of ``cases`` in
    checking mode; fail the calling test at the first difference from the stepped model. Call it holding
    ``build_lock(bdir)``. Returns the bench's records."""
    try:
        return _run_bench(verilog=verilog, toplevel=stem, bdir=bdir, cases=cases,
                          results=cases.with_name("results.json"), seed=seed, check=True)
    except CosimError as err:
        pytest.fail(str(err), pytrace=False)


def operands(rng: np.random.Generator, values: str, m: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Int8 ``A`` (``m x k``) and ``B`` (``k x n``): ``random`` (uniform), ``zero``, or ``extreme`` (each element
    -128 or 127)."""
    if values == "random":
        return (rng.integers(-128, 128, size=(m, k), dtype=np.int8),
                rng.integers(-128, 128, size=(k, n), dtype=np.int8))
    if values == "zero":
        return np.zeros((m, k), np.int8), np.zeros((k, n), np.int8)
    extremes = np.array([-128, 127], np.int8)
    return rng.choice(extremes, size=(m, k)), rng.choice(extremes, size=(k, n))
