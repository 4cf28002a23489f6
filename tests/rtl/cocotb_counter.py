"""cocotb testbench for :class:`rtl.counter.Counter`, run under Verilator.

Not collected by pytest (no ``test_`` prefix): ``tests/rtl/test_toolchain.py`` hands it to
cocotb's runner as ``test_module="cocotb_counter"`` with ``test_dir`` set to this folder;
cocotb puts the simulator's working directory on ``sys.path``, which is how it is found.

The seed comes from the runner's ``seed=`` argument, i.e. ``COCOTB_RANDOM_SEED``. cocotb 2
derives a per-test seed from it (that value plus the SHA-1 of the test's full name) and
exposes it as ``cocotb.RANDOM_SEED`` while the test runs; the ``en`` pattern is drawn from
that, so re-running with the same ``COCOTB_RANDOM_SEED`` replays it exactly.
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

#: Clock cycles with random ``en`` after reset.
CYCLES = 300


def reference_next(count: int, en: int, width: int) -> int:
    """Python reference: the count after one clock edge."""
    return (count + en) % (1 << width)


@cocotb.test()
async def counter_matches_reference(dut) -> None:
    """Drive ``en`` with a seeded random pattern; compare ``count`` with the reference every cycle."""
    width = len(dut.count)
    seed = os.environ.get("COCOTB_RANDOM_SEED", "<unset>")  # what to pass to replay
    rng = random.Random(cocotb.RANDOM_SEED)  # per-test seed derived from it by cocotb
    dut._log.info("COCOTB_RANDOM_SEED=%s width=%d cycles=%d", seed, width, CYCLES)

    # Inputs change and outputs are sampled on the falling edge, half a period away from the
    # rising edge on which the counter updates, so there is no race.
    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    dut.rst.value = 1
    dut.en.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    assert int(dut.count.value) == 0, f"count={int(dut.count.value)} after reset (COCOTB_RANDOM_SEED={seed})"
    dut.rst.value = 0

    expected = 0
    wraps = 0
    for cycle in range(CYCLES):
        en = rng.getrandbits(1)
        dut.en.value = en
        await FallingEdge(dut.clk)
        nxt = reference_next(expected, en, width)
        wraps += nxt < expected
        expected = nxt
        got = int(dut.count.value)
        assert got == expected, (
            f"cycle {cycle}: count={got}, reference={expected} (en={en}, COCOTB_RANDOM_SEED={seed})"
        )

    assert wraps >= 1, f"pattern never wrapped the {width}-bit counter (COCOTB_RANDOM_SEED={seed}); use a smaller width"
    dut._log.info("%d cycles matched, %d wrap-arounds", CYCLES, wraps)
