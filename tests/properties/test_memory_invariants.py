"""What any sound memory model must satisfy, checked on the fast engine's DMA model over random layers and arrays.

* cycles are at least the compute cycles (stalls are never negative);
* the layer's cycles, prefetch and drain included, are at least its DRAM bytes / bandwidth;
* more bandwidth, more SRAM (any of the three) or less DRAM latency never costs cycles (``Total Cycles``: compute
  and stalls) or DRAM bytes; prefetch and drain included too, but for the ofmap SRAM: a bigger one cuts the stream
  into fewer, longer tiles, and the last tile's outputs, drained after the last fold, take longer;
* DRAM moves every operand's distinct elements at least once (a convolution's pixels, its weights, its outputs);
* with unlimited bandwidth and SRAM the cycles are the compute-only model's (every fold of the untiled GEMM).

The exact model is the stepped reference's (``tests/properties/test_memory_model.py``); these hold whatever it is.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from hwsim.arch.systolic import SystolicArray
from hwsim.mapping import lay
from hwsim.sim.compute import gemm_compute
from hwsim.sim.engine import gemm_counts
from hwsim.sim.memory import fits
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY
KIB = st.sampled_from([0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 16, 64])
BANDWIDTH = st.one_of(st.sampled_from([0.25, 0.5, 1, 3, 10, 64]), st.floats(0.1, 100))


@st.composite
def layers(draw):
    """A GEMM laid on an array: dense or N:M sparse (ws/os), groups packed or not, and the ifmap's distinct share."""
    dataflow = draw(st.sampled_from([WS, OS, IS]))
    arch = SystolicArray(
        draw(st.integers(1, 16)), draw(st.integers(1, 16)), dataflow=dataflow,
        precision=draw(st.sampled_from(["int8", "int8", "int16"])),
        ifmap_sram_kib=draw(KIB), filter_sram_kib=draw(KIB), ofmap_sram_kib=draw(KIB),
        dram_bandwidth_bytes_per_cycle=draw(BANDWIDTH), dram_latency_cycles=draw(st.sampled_from([0, 0, 2, 30])),
    )
    gemm = GemmDims(m=draw(st.integers(1, 200)), n=draw(st.integers(1, 60)), k=draw(st.integers(1, 120)),
                    repeat=draw(st.integers(1, 4)))
    n_keep, m_group, pack = 1, 1, False
    if dataflow is not IS and draw(st.booleans()):
        m_group = draw(st.integers(2, 8))
        n_keep = draw(st.integers(1, m_group - 1))
    elif gemm.repeat > 1:
        pack = draw(st.booleans())
    a_unique = draw(st.sampled_from([1.0, 1.0, 0.5, 1 / 3, 0.9]))
    interleave = n_keep < m_group and draw(st.booleans())
    return dict(gemm=gemm, arch=arch, n_keep=n_keep, m_group=m_group, pack=pack, a_unique=a_unique,
                interleave=interleave)


def counts(case, arch=None):
    """(compute, memory) of ``case`` on ``arch`` (default: its own); None where the layer does not fit."""
    arch = arch or case["arch"]
    lm = lay(case["gemm"], arch, n_keep=case["n_keep"], m_group=case["m_group"], pack=case["pack"])
    if not fits(lm.fold, arch):
        return None
    return gemm_counts(lm, arch, a_unique=case["a_unique"], interleave=case["interleave"])


def cycles(pair):
    compute, memory = pair
    return int(compute.cycles + memory.stall_cycles + memory.prefetch_cycles + memory.drain_cycles)


def dram(memory):
    return (int(memory.ifmap_dram_read_bytes), int(memory.filter_dram_read_bytes),
            int(memory.ofmap_dram_write_bytes), int(memory.ofmap_dram_read_bytes))


@given(layers())
def test_cycles_cover_compute_and_dram_time(case):
    pair = counts(case)
    assume(pair is not None)
    compute, memory = pair
    assert memory.stall_cycles >= 0 and memory.prefetch_cycles >= 0 and memory.drain_cycles >= 0
    moved = sum(dram(memory))
    # the totals are rounded to whole bytes once each: a distinct-pixel share of an ifmap moves fractional bytes
    rounding = 0 if case["a_unique"] == 1.0 else 0.5
    assert cycles(pair) * case["arch"].dram_bandwidth_bytes_per_cycle >= (moved - rounding) * (1 - 1e-12)


@given(layers(), st.sampled_from(["bandwidth", "ifmap", "filter", "ofmap", "latency"]), st.floats(1.01, 16))
def test_more_bandwidth_or_sram_never_costs_cycles_or_bytes(case, what, factor):
    pair = counts(case)
    assume(pair is not None)
    arch = case["arch"]
    field = {"bandwidth": "dram_bandwidth_bytes_per_cycle", "latency": "dram_latency_cycles"}.get(
        what, f"{what}_sram_kib")
    value = getattr(arch, field) * factor if what != "latency" else arch.dram_latency_cycles // 2
    better = counts(case, replace(arch, **{field: value}))
    assert better is not None  # what fitted still fits
    assert better[0].cycles + better[1].stall_cycles <= pair[0].cycles + pair[1].stall_cycles  # Total Cycles
    if what != "ofmap":
        assert cycles(better) <= cycles(pair)  # prefetch and drain included
    assert all(b <= a for a, b in zip(dram(pair[1]), dram(better[1])))


@given(layers())
def test_dram_moves_every_distinct_element_at_least_once(case):
    pair = counts(case)
    assume(pair is not None)
    _, memory = pair
    arch, g = case["arch"], case["gemm"]
    kept_k = lay(g, arch, n_keep=case["n_keep"], m_group=case["m_group"]).run.k  # K' when N:M
    ifmap = g.m * g.k * g.repeat * arch.ifmap_bits / 8 * case["a_unique"]
    assert memory.ifmap_dram_read_bytes >= round(ifmap)
    assert memory.filter_dram_read_bytes >= kept_k * g.n * g.repeat * arch.filter_bits // 8
    assert memory.ofmap_dram_write_bytes >= g.m * g.n * g.repeat * arch.ofmap_bits // 8
    assert memory.ofmap_dram_read_bytes == 0  # partial sums never leave the chip


@given(layers())
def test_unlimited_bandwidth_and_sram_is_the_compute_only_model(case):
    arch = replace(case["arch"], ifmap_sram_kib=1 << 20, filter_sram_kib=1 << 20, ofmap_sram_kib=1 << 20,
                   dram_bandwidth_bytes_per_cycle=1e15, dram_latency_cycles=0)
    compute, memory = counts(case, arch)
    lm = lay(case["gemm"], arch, n_keep=case["n_keep"], m_group=case["m_group"], pack=case["pack"])
    assert lm.stream_tile == lm.fold.t  # nothing is tiled
    assert memory.stall_cycles == 0
    assert compute.cycles == gemm_compute(lm, interleave=case["interleave"]).cycles
