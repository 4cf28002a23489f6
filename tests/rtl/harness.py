"""Running one cocotb test module on a Verilator build, as every RTL test does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rtl.toolchain import verilator_environ

HERE = Path(__file__).resolve().parent

#: Yosys writes width-mixing expressions (``$signed(x) + $signed(2'h1)``) whose meaning the Verilog standard fixes;
#: Verilator's lint warns about each (WIDTHEXPAND ...) and, by default, stops on warnings. The Verilog is generated,
#: so lint findings in it are not actionable here.
VERILATOR_ARGS = ["-Wno-lint"]


def run_cocotb(*, verilog: Path, stem: str, bdir: Path, test_module: str, cases: Path, seed: int) -> None:
    """Build ``verilog`` in ``bdir`` (reused when unchanged) and run ``test_module`` on it with the cases file and
    seed in its environment; fail the calling test, with the replay seed, unless exactly one cocotb test ran and
    passed. Call it holding ``build_lock(bdir)``."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    # An exported COCOTB_RANDOM_SEED would override seed= below (the runner applies os.environ last).
    saved = os.environ.pop("COCOTB_RANDOM_SEED", None)
    runner = get_runner("verilator")
    exit_code = None
    try:
        with verilator_environ():
            # Reuse comes from the persistent folder: Verilator skips identical input, make finds nothing to do.
            runner.build(sources=[verilog], hdl_toplevel=stem, build_dir=bdir, build_args=VERILATOR_ARGS)
            try:
                # Under pytest the runner checks the results itself and calls sys.exit on failure.
                out = runner.test(
                    hdl_toplevel=stem, test_module=test_module, test_dir=HERE, build_dir=bdir,
                    results_xml=str(bdir / "results.xml"), seed=seed,
                    extra_env={"HWSIM_RTL_CASES": str(cases), "HWSIM_RTL_SEED": str(seed)},
                )
            except SystemExit as exc:
                exit_code = exc.code
    finally:
        if saved is not None:
            os.environ["COCOTB_RANDOM_SEED"] = saved
    if exit_code is not None:
        pytest.fail(f"cocotb run failed (runner sys.exit({exit_code!r}), see the log above); "
                    f"replay with HWSIM_RTL_SEED={seed}", pytrace=False)
    # Zero tests (e.g. module not found) must not pass.
    num_tests, num_failed = get_results(Path(out))
    assert (num_tests, num_failed) == (1, 0), f"{num_failed} of {num_tests} cocotb tests failed (seed={seed})"
