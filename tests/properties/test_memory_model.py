"""The fast engine's memory model equals the cycle-stepped memory reference, count for count.

``hwsim.sim.engine.gemm_counts`` (the closed form, :mod:`hwsim.sim.memory`) against
:func:`hwsim.sim.stepped_memory.step_memory` (the definition stepped cycle by cycle on the stepped compute model):
compute cycles, stall, prefetch and drain cycles, and DRAM bytes per operand and direction, over small GEMMs on
arrays of 1..8 x 1..8, ws/os/is, dense and N:M sparse, packed groups, SRAMs drawn at exactly half the size of a
tile or slice (and one byte either side), fractional bandwidths, latencies, ``a_unique``, SAT's interleave, and
element widths other than 8 bits (operands, outputs, partial sums).
Layers whose fold cannot fit its SRAM, or whose partial-sum row cannot, are assumed away.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import lay
from hwsim.sim.engine import gemm_counts
from hwsim.sim.memory import fits, operand_bytes
from hwsim.sim.stepped_memory import step_memory
from hwsim.types import PRECISIONS
from hwsim.workload.lowering import GemmDims

BANDWIDTHS = st.one_of(st.sampled_from([0.5, 0.75, 1.0, 1.5, 3.0, 10.0, 64.0, 1e9]),
                       st.floats(0.5, 64.0, allow_nan=False))
A_UNIQUE = st.sampled_from([1.0, 1.0, 0.5, 0.3, 0.77])


def _kib(nbytes: int) -> float:
    """An SRAM whose half is ``nbytes``."""
    return 2 * nbytes / 1024


@st.composite
def cases(draw, flow: str):
    """``(lm, arch, a_unique, interleave)`` for one dataflow."""
    sparse = flow != "is" and draw(st.booleans())
    pack = not sparse and draw(st.integers(0, 2)) == 0
    rows, cols = draw(st.integers(2 if pack else 1, 8)), draw(st.integers(2 if pack else 1, 8))
    repeat = draw(st.integers(2, 3)) if pack else draw(st.integers(1, 3))
    # Up to 8 folds along each array dimension (more than 4, so that the closed form's representative interior
    # folds stand for several) and a stream of up to 40 keep an example to a few thousand cycles.
    on_rows, on_cols = st.integers(1, min(48, 8 * rows)), st.integers(1, min(48, 8 * cols))
    m, k, n = (draw(d) for d in {"ws": (st.integers(1, 40), on_rows, on_cols),
                                 "os": (on_rows, st.integers(1, 40), on_cols),
                                 "is": (on_cols, on_rows, st.integers(1, 40))}[flow])
    if pack:  # groups small enough for at least two to share a fold
        k, n = draw(st.integers(1, max(1, rows // 2))), draw(st.integers(1, max(1, cols // 2)))
    n_keep = m_group = 1
    if sparse:
        m_group = draw(st.integers(2, 8))
        n_keep = draw(st.integers(1, m_group - 1))
    calc = draw(st.integers(0, 9)) == 0
    precision = draw(st.sampled_from(["int8", "int8", "int16", "fp32"]))
    bits = PRECISIONS[precision]
    ofmap_bits, psum_bits = draw(st.sampled_from([None, None, 4, 12])), draw(st.sampled_from([32, 32, 16, 24]))
    base = SystolicArray(rows, cols, dataflow=flow, precision=precision, ofmap_bits=ofmap_bits, psum_bits=psum_bits,
                         dram_bandwidth_bytes_per_cycle=draw(BANDWIDTHS), dram_latency_cycles=draw(st.integers(0, 20)),
                         interface_bandwidth="CALC" if calc else "USER", ifmap_sram_kib=64.0, filter_sram_kib=64.0,
                         ofmap_sram_kib=64.0)
    gemm = GemmDims(m=m, n=n, k=k, repeat=repeat)
    a_unique = draw(A_UNIQUE)
    lm = lay(gemm, base, pack=pack, n_keep=n_keep, m_group=m_group)
    fold, p = lm.fold, lm.packed_groups
    kd = lm.gemm.k * p
    rows_used, cols_used = min(rows, fold.sr), min(cols, fold.sc)

    def ifmap_bytes(e):
        return int(operand_bytes(e, bits, a_unique))

    def filter_bytes(e):
        return int(operand_bytes(e // p, bits))

    # Sizes that sit at the edge of a keep/share/tile decision: a tile, a slice, a whole matrix, a psum row.
    ifmap_sizes = [ifmap_bytes(lm.run.m * kd), ifmap_bytes(min(rows, lm.run.m) * kd),
                   ifmap_bytes(fold.sr * fold.sc), ifmap_bytes(rows_used * cols_used)]
    filter_sizes = [filter_bytes(fold.sr * fold.sc), filter_bytes(rows_used * cols_used),
                    filter_bytes(fold.t * cols_used), filter_bytes(fold.t * fold.sr),
                    rows_used * cols_used * bits // 8]  # what fits() asks of a packed tile: its zeros too
    ofmap_sizes = [cols_used * psum_bits // 8 * draw(st.integers(1, max(1, fold.t)))]

    def sram(sizes):
        choice = draw(st.sampled_from([None, *sizes, *sizes]))
        if choice is None:
            return 64.0 if draw(st.booleans()) else _kib(draw(st.integers(1, 400)))
        return _kib(max(1, choice + draw(st.sampled_from([-1, 0, 0, 1]))))

    arch = replace(base, ifmap_sram_kib=sram(ifmap_sizes), filter_sram_kib=sram(filter_sizes),
                   ofmap_sram_kib=sram(ofmap_sizes))
    lm = lay(gemm, arch, pack=pack, n_keep=n_keep, m_group=m_group)
    interleave = flow != "is" and draw(st.booleans())
    return lm, arch, a_unique, interleave


@pytest.mark.parametrize("flow", ["ws", "os", "is"])
def test_closed_form_equals_the_stepped_reference(flow):
    @settings(max_examples=200)
    @given(cases(flow))
    def check(case):
        lm, arch, a_unique, interleave = case
        assume(bool(fits(lm.fold, arch)))
        try:
            ref = step_memory(lm, arch, a_unique=a_unique, interleave=interleave)
        except InputError:
            assume(False)
        compute, memory = gemm_counts(lm, arch, a_unique=a_unique, interleave=interleave)
        got = (int(compute.cycles), int(memory.stall_cycles), int(memory.prefetch_cycles), int(memory.drain_cycles),
               int(memory.ifmap_dram_read_bytes), int(memory.filter_dram_read_bytes),
               int(memory.ofmap_dram_write_bytes), int(memory.ofmap_dram_read_bytes))
        want = (ref.compute_cycles, ref.stall_cycles, ref.prefetch_cycles, ref.drain_cycles,
                ref.ifmap_dram_read_bytes, ref.filter_dram_read_bytes, ref.ofmap_dram_write_bytes,
                ref.ofmap_dram_read_bytes)
        names = ("compute_cycles", "stall_cycles", "prefetch_cycles", "drain_cycles", "ifmap_dram_read_bytes",
                 "filter_dram_read_bytes", "ofmap_dram_write_bytes", "ofmap_dram_read_bytes")
        differ = {name: (g, w) for name, g, w in zip(names, got, want) if g != w}
        assert not differ, f"closed form vs stepped reference (closed, stepped): {differ}"

    check()
