"""The batch engine equals per-design ``simulate``; the closed form over representative folds equals walking every fold.

The first property checks the batch's own work (grouping designs, adding layers up, pricing the totals, errors);
the model's formulas are shared with ``simulate``, so the second property checks them against a plain walk over
every fold of every run, written from the model's description in :mod:`hwsim.sim.memory`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.report.systolic import METRICS
from hwsim.compose import simulate, simulate_batch
from hwsim.mapping import FoldMapping
from hwsim.report.batch import INT_METRICS
from hwsim.sim.batch import DesignGroup
from hwsim.sim.memory import MemoryCounts, gemm_memory
from hwsim.types import Dataflow
from hwsim.workload import NetworkBuilder

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY
# Energies, areas and ratios: the batch prices the network's totals once, simulate prices each layer and adds the
# prices up. Energy is linear in the counts, so the two are the same sums in another order: they differ by
# floating-point rounding, a few 1e-16 relative per layer added (observed: below 3e-15 on the zoo).
FLOAT_RTOL = 1e-12


def assert_batch_equals_simulate(network, archs, tech="45nm"):
    """simulate_batch on ``archs`` gives, design by design, simulate's metrics or its error; returns the result."""
    result = simulate_batch(network, archs, tech=tech)
    assert result.archs == tuple(archs) and set(result.metrics) == set(METRICS)
    for name, values in result.metrics.items():
        assert values.shape == (len(archs),)
        assert values.dtype == (np.int64 if name in INT_METRICS else np.float64), name
    for i, arch in enumerate(archs):
        try:
            expected, error = simulate(network, arch, tech=tech).metrics(), None
        except InputError as err:
            expected, error = None, str(err)
        assert result.errors[i] == error, (i, arch)
        got = {name: result.metrics[name][i] for name in METRICS}
        if error is not None:
            assert all(got[name] == 0 if name in INT_METRICS else np.isnan(got[name]) for name in METRICS)
            continue
        for name in METRICS:
            if name in INT_METRICS:
                assert got[name] == expected[name], (i, arch, name)
            else:
                np.testing.assert_allclose(got[name], expected[name], rtol=FLOAT_RTOL, atol=0,
                                           err_msg=f"design {i} {arch} {name}")
    return result


@st.composite
def networks(draw):
    c, h, batch = draw(st.integers(1, 24)), draw(st.integers(3, 20)), draw(st.integers(1, 2))
    b = NetworkBuilder("random", source="test", inputs={"x": (c, h, h)}, batch=batch)
    x = "x"
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "conv", "depthwise", "gemm", "pool", "eltwise"]))
        channels, height, width = b.shape(x)
        if kind == "conv":
            kernel, stride = draw(st.sampled_from([1, 3, 5])), draw(st.integers(1, 2))
            groups = draw(st.sampled_from([g for g in (1, 2, 4) if channels % g == 0]))
            x = b.conv(f"conv{i}", x, groups * draw(st.integers(1, 24)), kernel, stride=stride, padding=kernel // 2,
                       groups=groups)
        elif kind == "depthwise":
            x = b.depthwise(f"dw{i}", x, 3, stride=draw(st.integers(1, 2)), padding=1)
        elif kind == "gemm":
            x = b.gemm(f"gemm{i}", x, draw(st.integers(1, 40)))
        elif kind == "pool" and min(height, width) >= 2:
            x = b.pool(f"pool{i}", x, draw(st.sampled_from(["max", "avg"])), 2)
        elif kind == "eltwise":
            x = b.eltwise(f"add{i}", [x, x], "add", activation="relu")
    if draw(st.booleans()):
        b.fc("fc", x, draw(st.integers(1, 40)))
    return b.build()


KIB = st.sampled_from([0.25, 0.5, 1, 2, 4, 16, 64, 1024])  # small sizes make stream tiles and folds that do not fit


@st.composite
def designs(draw):
    precision = draw(st.sampled_from(["int8", "int8", "int16", "fp16", "fp32"]))
    return SystolicArray(
        draw(st.integers(1, 64)), draw(st.integers(1, 64)), dataflow=draw(st.sampled_from([WS, OS, IS])),
        precision=precision, ofmap_bits=draw(st.one_of(st.none(), st.integers(1, 32))),
        ifmap_sram_kib=draw(KIB), filter_sram_kib=draw(KIB), ofmap_sram_kib=draw(KIB),
        dram_bandwidth_bytes_per_cycle=draw(st.one_of(st.integers(1, 64), st.floats(1, 64))),
        clock_mhz=draw(st.sampled_from([100, 1000, 1234.5])),
    )


@given(networks(), st.lists(designs(), min_size=1, max_size=12), st.sampled_from(["45nm", "7nm"]))
def test_batch_equals_simulate_design_by_design(network, archs, tech):
    assert_batch_equals_simulate(network, archs, tech)


def walk_every_fold(fm: FoldMapping, repeat: int, arch: SystolicArray, fold_cycles: int, a_unique: float,
                    stationary_shared: bool) -> MemoryCounts:
    """The memory model of :mod:`hwsim.sim.memory`, fold by fold over every run (column fold outer)."""
    ib, fb, ob = arch.ifmap_bits / 8 * a_unique, arch.filter_bits / 8, arch.ofmap_bits / 8
    isram, fsram, osram = arch.ifmap_sram_kib * 1024, arch.filter_sram_kib * 1024, arch.ofmap_sram_kib * 1024
    t, row_folds, col_folds = fm.t, fm.row_folds, fm.col_folds
    folds = []  # per fold of one run: (stationary, ifmap read, filter read, partial-sum read, written) bytes
    for j in range(col_folds):
        for i in range(row_folds):
            rows = min(fm.rows, fm.sr - i * fm.rows)
            cols = min(fm.cols, fm.sc - j * fm.cols)
            if fm.dataflow is OS:
                ifmap = rows * t * ib if j == 0 or fm.sr * t * ib > isram else 0
                filt = t * cols * fb if i == 0 or t * fm.cols * fb > fsram / 2 else 0
                folds.append((0, ifmap, filt, 0, rows * cols * ob))
                continue
            stat_b, stream_b, stream_sram = (fb, ib, isram) if fm.dataflow is WS else (ib, fb, fsram)
            streamed = t * rows * stream_b if j == 0 or t * fm.sr * stream_b > stream_sram else 0
            stay = t * fm.cols * (arch.psum_bits // 8) <= osram
            last = i == row_folds - 1
            written = t * cols * ob if last else (0 if stay else t * cols * (arch.psum_bits // 8))
            psum = 0 if i == 0 or stay else t * cols * (arch.psum_bits // 8)
            ifmap, filt = (streamed, 0) if fm.dataflow is WS else (0, streamed)
            folds.append((rows * cols * stat_b, ifmap, filt, psum, written))
    stat_sram = fsram if fm.dataflow is WS else isram
    shared = stationary_shared and sum(f[0] for f in folds) <= stat_sram
    sequence = [(f[0] if run == 0 or not shared else 0, *f[1:]) for run in range(repeat) for f in folds]
    stall = 0
    for g, (_, ifmap, filt, psum, _) in enumerate(sequence):
        following = sequence[g + 1][0] if g + 1 < len(sequence) else 0
        previous = sequence[g - 1][4] if g > 0 else 0
        during = ifmap + filt + psum + following + previous
        stall += max(0, math.ceil(during / arch.dram_bandwidth_bytes_per_cycle) - fold_cycles)
    stationary = sum(f[0] for f in sequence)
    ifmap = sum(f[1] for f in sequence) + (stationary if fm.dataflow is IS else 0)
    filt = sum(f[2] for f in sequence) + (stationary if fm.dataflow is WS else 0)
    bw = arch.dram_bandwidth_bytes_per_cycle
    return MemoryCounts(
        ifmap_dram_read_bytes=round(ifmap), filter_dram_read_bytes=round(filt),
        ofmap_dram_write_bytes=round(sum(f[4] for f in sequence)),
        ofmap_dram_read_bytes=round(sum(f[3] for f in sequence)), stall_cycles=stall,
        prefetch_cycles=math.ceil(sequence[0][0] / bw), drain_cycles=math.ceil(sequence[-1][4] / bw),
    )


gemms = st.fixed_dictionaries({
    "dataflow": st.sampled_from([WS, OS, IS]), "sr": st.integers(1, 40), "sc": st.integers(1, 40),
    "t": st.integers(1, 30), "repeat": st.integers(1, 4), "shared": st.booleans(),
    # dyadic fractions keep every byte count exact in floating point, so walk and closed form agree exactly
    "a_unique": st.sampled_from([1.0, 0.75, 0.5, 0.375]),
})
small_designs = st.builds(
    lambda rows, cols, kib, bw, ofmap_bits: SystolicArray(
        rows, cols, ifmap_sram_kib=kib[0], filter_sram_kib=kib[1], ofmap_sram_kib=kib[2],
        dram_bandwidth_bytes_per_cycle=bw, ofmap_bits=ofmap_bits),
    st.integers(1, 9), st.integers(1, 9), st.tuples(*[st.sampled_from([0.0625, 0.125, 0.25, 1, 64])] * 3),
    st.sampled_from([1, 2, 3, 8, 100]), st.sampled_from([8, 3, 16]),
)


@given(gemms, st.lists(small_designs, min_size=1, max_size=6))
def test_closed_form_memory_equals_walking_every_fold(g, archs):
    """Every run of every fold walked one by one, per design, against one closed-form call over all designs."""
    group = DesignGroup.of([SystolicArray(**{**a.__dict__, "dataflow": g["dataflow"]}) for a in archs])
    fm = FoldMapping(g["dataflow"], group.rows, group.cols, g["sr"], g["sc"], g["t"])
    cycles = fm.fold_cycles()
    got = gemm_memory(fm, g["repeat"], group, cycles, a_unique=g["a_unique"], stationary_shared=g["shared"])
    for d, arch in enumerate(archs):
        one = FoldMapping(g["dataflow"], arch.rows, arch.cols, g["sr"], g["sc"], g["t"])
        want = walk_every_fold(one, g["repeat"], SystolicArray(**{**arch.__dict__, "dataflow": g["dataflow"]}),
                               one.fold_cycles(), g["a_unique"], g["shared"])
        assert MemoryCounts(*(int(np.asarray(getattr(got, f))[d]) for f in MemoryCounts.__dataclass_fields__)) \
            == want, (d, arch)
