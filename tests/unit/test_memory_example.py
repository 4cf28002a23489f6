"""The README's worked example of the memory model (section "The systolic-array model", **Memory.**)."""

from __future__ import annotations

from dataclasses import replace

from hwsim.arch.systolic import SystolicArray
from hwsim.mapping import lay
from hwsim.sim.engine import gemm_counts
from hwsim.workload.lowering import GemmDims

ARCH = SystolicArray(4, 4, ifmap_sram_kib=128 / 1024, filter_sram_kib=64 / 1024, ofmap_sram_kib=128 / 1024,
                     dram_bandwidth_bytes_per_cycle=2, dram_latency_cycles=2)
GEMM = GemmDims(m=8, n=6, k=6)


def test_the_readme_example_closed_form():
    lm = lay(GEMM, ARCH)
    assert (lm.fold.row_folds, lm.fold.col_folds, lm.stream_tile) == (2, 2, 4)
    compute, memory = gemm_counts(lm, ARCH)
    assert compute.cycles == 112 and compute.folds == 8
    assert (memory.stall_cycles, memory.prefetch_cycles, memory.drain_cycles) == (4, 10, 4)
    assert (memory.ifmap_dram_read_bytes, memory.filter_dram_read_bytes, memory.ofmap_dram_write_bytes,
            memory.ofmap_dram_read_bytes) == (48, 72, 48, 0)


def test_the_readme_example_untiled():
    arch = replace(ARCH, ofmap_sram_kib=1)
    compute, memory = gemm_counts(lay(GEMM, arch), arch)
    assert compute.cycles == 4 * 18
    assert memory.filter_dram_read_bytes == 36  # one pass: each filter tile once
