"""The batch engine equals per-design ``simulate``; the closed form over representative folds equals walking every fold.

The first property checks the batch's own work (grouping designs, adding layers up, pricing the totals, errors);
the model's formulas are shared with ``simulate``, so the second property checks them against a plain walk over
every fold of every run, written from the model's description in :mod:`hwsim.sim.memory`.
"""

from __future__ import annotations

import math

import numpy as np
from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.report.systolic import METRICS
from hwsim.compose import simulate, simulate_batch
from hwsim.mapping import lay
from hwsim.report.batch import INT_METRICS
from hwsim.sim.batch import DesignGroup
from hwsim.sim.memory import MemoryCounts, dram_cycles, fits, gemm_memory
from hwsim.types import Dataflow
from hwsim.workload import NetworkBuilder
from hwsim.workload.lowering import GemmDims

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


def walk_every_step(gemm: GemmDims, arch: SystolicArray, a_unique: float) -> MemoryCounts:
    """The DMA model of :mod:`hwsim.sim.memory`, step by step over every fold of every run, written from its
    description (dense, unpacked): stream tiles, residency, phases."""
    lm = lay(gemm, arch)
    fm, flow = lm.fold, arch.dataflow
    bits = {"ifmap": arch.ifmap_bits, "filter": arch.filter_bits, "ofmap": arch.ofmap_bits}
    half = {name: getattr(arch, f"{name}_sram_kib") * 1024 / 2 for name in bits}

    def nbytes(operand, elements):
        return elements * bits[operand] * (a_unique if operand == "ifmap" else 1.0) / 8

    resident = {WS: "filter", IS: "ifmap", OS: None}[flow]
    res_kept = resident is not None and nbytes(resident, fm.sr * fm.sc) <= half[resident]
    tile = fm.t
    if flow is not OS and fm.row_folds > 1:
        tile = min(fm.t, int(half["ofmap"] // (min(fm.cols, fm.sc) * arch.psum_bits / 8)))
    count = -(-fm.t // tile)  # the fewest tiles, as even as they go: the longer ones first
    lengths = [fm.t // count + 1] * (fm.t % count) + [fm.t // count] * (count - fm.t % count)
    steps = []  # (compute cycles, ifmap bytes, filter bytes, resident bytes, written bytes)
    for _ in range(gemm.repeat):
        for tau, t in enumerate(lengths):
            for j in range(fm.col_folds):
                for i in range(fm.row_folds):
                    rows, cols = min(fm.rows, fm.sr - i * fm.rows), min(fm.cols, fm.sc - j * fm.cols)
                    if flow is OS:
                        a_kept = nbytes("ifmap", fm.sr * gemm.k) <= half["ifmap"]
                        b_kept = nbytes("filter", t * cols) <= half["filter"]
                        ifmap = nbytes("ifmap", rows * gemm.k) if j == 0 or not a_kept else 0
                        filt = nbytes("filter", t * cols) if i == 0 or not b_kept else 0
                        steps.append((2 * fm.rows + fm.cols + t - 2, ifmap, filt, 0, nbytes("ofmap", rows * cols)))
                        continue
                    stream = "ifmap" if flow is WS else "filter"
                    kept = nbytes(stream, fm.t * fm.sr) <= half[stream]  # the whole stream, not the tile's
                    streamed = nbytes(stream, t * rows) if j == 0 or not kept else 0
                    res = nbytes(resident, rows * cols) if tau == 0 or not res_kept else 0
                    written = nbytes("ofmap", t * cols) if i == fm.row_folds - 1 else 0
                    ifmap, filt = (streamed, 0) if flow is WS else (0, streamed)
                    steps.append((2 * fm.rows + fm.cols + t - 2, ifmap, filt, res, written))
    calc = arch.interface_bandwidth == "CALC"
    bw, latency = (math.inf, 0) if calc else (arch.dram_bandwidth_bytes_per_cycle, arch.dram_latency_cycles)

    def cycles(x):
        return int(dram_cycles(x, bw))

    stall = 0
    for s, (compute, ifmap, filt, _, _) in enumerate(steps):
        before = steps[s - 1][4] if s > 0 else 0
        after = steps[s + 1][3] if s + 1 < len(steps) else 0
        phase = latency * (ifmap + filt + after > 0) + cycles(before + ifmap + filt + after)
        stall += max(0, phase - compute)
    total = {name: sum(step[k] for step in steps) for name, k in (("ifmap", 1), ("filter", 2), ("ofmap", 4))}
    total[resident or "ofmap"] += sum(step[3] for step in steps)
    return MemoryCounts(
        ifmap_dram_read_bytes=round(total["ifmap"]), filter_dram_read_bytes=round(total["filter"]),
        ofmap_dram_write_bytes=round(total["ofmap"]), ofmap_dram_read_bytes=0, stall_cycles=stall,
        prefetch_cycles=latency * (steps[0][3] > 0) + cycles(steps[0][3]), drain_cycles=cycles(steps[-1][4]),
    )


gemms = st.fixed_dictionaries({
    "dataflow": st.sampled_from([WS, OS, IS]), "m": st.integers(1, 40), "n": st.integers(1, 40),
    "k": st.integers(1, 40), "repeat": st.integers(1, 4),
    # dyadic fractions keep every byte count exact in floating point, so walk and closed form agree exactly
    "a_unique": st.sampled_from([1.0, 0.75, 0.5, 0.375]),
})
small_designs = st.builds(
    lambda rows, cols, kib, bw, ofmap_bits, latency: SystolicArray(
        rows, cols, ifmap_sram_kib=kib[0], filter_sram_kib=kib[1], ofmap_sram_kib=kib[2],
        dram_bandwidth_bytes_per_cycle=bw, ofmap_bits=ofmap_bits, dram_latency_cycles=latency),
    st.integers(1, 9), st.integers(1, 9), st.tuples(*[st.sampled_from([0.0625, 0.125, 0.25, 1, 64])] * 3),
    st.sampled_from([1, 2, 3, 8, 100, 0.5, 2.5, 0.3]), st.sampled_from([8, 3, 16]), st.sampled_from([0, 0, 3, 17]),
)


@given(gemms, st.lists(small_designs, min_size=1, max_size=6), st.sampled_from(["USER", "USER", "CALC"]))
def test_closed_form_memory_equals_walking_every_step(g, archs, interface):
    """Every step of every run walked one by one, per design, against one closed-form call over all designs."""
    archs = [replace(a, dataflow=g["dataflow"], interface_bandwidth=interface) for a in archs]
    gemm = GemmDims(m=g["m"], n=g["n"], k=g["k"], repeat=g["repeat"])
    archs = [a for a in archs if fits(lay(gemm, a).fold, a)]
    assume(archs)
    group = DesignGroup.of(archs)
    got = gemm_memory(lay(gemm, group), group, a_unique=g["a_unique"])
    for d, arch in enumerate(archs):
        want = walk_every_step(gemm, arch, g["a_unique"])
        assert MemoryCounts(*(int(np.asarray(getattr(got, f))[d]) for f in MemoryCounts.__dataclass_fields__)) \
            == want, (d, arch)
