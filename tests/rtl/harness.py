"""Running one cocotb test module on a Verilator build, as every RTL test does.

The work is :func:`rtl.cosim.run_cocotb` (the one way a Verilator run happens in hwsim); this wrapper turns its
failure into a failed test with the replay seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rtl.cosim import CosimError, run_cocotb as _run_cocotb

HERE = Path(__file__).resolve().parent


def run_cocotb(*, verilog: Path, stem: str, bdir: Path, test_module: str, cases: Path, seed: int) -> None:
    """Build ``verilog`` in ``bdir`` (reused when unchanged) and run ``test_module`` (a module in this folder) on
    it with the cases file and seed in its environment; fail the calling test, with the replay seed, unless exactly
    one cocotb test ran and passed. Call it holding ``build_lock(bdir)``."""
    try:
        _run_cocotb(verilog=verilog, toplevel=stem, bdir=bdir, test_module=test_module, test_dir=HERE, seed=seed,
                    extra_env={"HWSIM_RTL_CASES": str(cases)})
    except CosimError as err:
        pytest.fail(str(err), pytrace=False)
