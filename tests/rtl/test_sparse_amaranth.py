"""The N:M sparse systolic RTL under Amaranth's simulator equals the sparse stepped model cycle for cycle.

For 2x2 and 4x4 arrays, ``ws`` and ``os``, and the sparsities 2:4, 1:4, 2:8 and 4:4 (dense mode), one
:class:`rtl.sparse.SparseSystolicGemm` runs a series of GEMMs back to back in one simulation (no reset in
between): smaller than the array, equal to it, larger (several row and column folds), the larger one again
started in the done cycle, all zero, all -128/127, one whose ``B`` is magnitude-pruned by
:func:`hwsim.workload.sparsity.compress`, and three of random size. ``K`` is not a multiple of ``m_group`` in
most of them, so the last group is partial: its window is clipped at ``K`` and, in the random layouts, some of
its slots are empty. ``start`` is held high into one GEMM and the load ports are driven during another; both
must be ignored while busy. For each GEMM, against :func:`hwsim.sim.sparse.simulate_sparse_gemm`:

1. ``O == A @ decompressed(B)`` exactly (read back through the result port);
2. ``busy`` lasts exactly the model's cycles from the cycle after the start edge, ``done`` is high for the one
   cycle after that and never otherwise;
3. every busy cycle's three monitor vectors equal the sparse stepped trace rows (ifmap: window starts; filter:
   dense indices of kept weights, -1 for empty slots), and they are all -1 while idle.

A mismatch names the first differing cycle, lane (and the PE row/column it feeds) and both values. Random
operands come from a seed that is printed; replay with ``HWSIM_RTL_SEED=<n>``.

The compressed-layout helpers here (:func:`model_layout`, :func:`random_layout`, :func:`decompress`) are also
used by ``test_sparse_verilator.py``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from hwsim.arch import SystolicArray
from hwsim.sim.sparse import compressed_rows, simulate_sparse_gemm
from hwsim.workload.sparsity import NMSparsity, compress
from rtl.pe import SparseProcessingElement
from rtl.sparse import SparseSystolicCore, SparseSystolicGemm
from tests.rtl.series import (
    Case, check, fold_plan, gemm_shape, memories, memory_sizes, operands, port_table, run_series, with_back_to_back,
)
from tests.rtl.test_pe import value_error

pytestmark = pytest.mark.rtl

ARRAYS = [(2, 2), (4, 4)]
FLOWS = ["ws", "os"]
#: ``(n_keep, m_group)``: two sparse densities at M = 4, a wider window, and dense mode.
SPARSITIES = [(2, 4), (1, 4), (2, 8), (4, 4)]


# ------------------------------------------------------------------------------------------------------------------
# Compressed operands in the model's layout
# ------------------------------------------------------------------------------------------------------------------


def slot_positions(indices: np.ndarray, n_keep: int, m_group: int) -> np.ndarray:
    """``(K', N)`` dense row ``g*m_group + index`` of every slot (``r`` itself in dense mode)."""
    rows = np.arange(indices.shape[0], dtype=np.int64)[:, None]
    if n_keep == m_group:
        return np.broadcast_to(rows, indices.shape)
    return rows // n_keep * m_group + indices.astype(np.int64)


def decompress(values: np.ndarray, indices: np.ndarray, k: int, n_keep: int, m_group: int) -> np.ndarray:
    """The dense ``(K, N)`` int8 ``B`` a compressed layout stands for (empty slots name nothing)."""
    pos = slot_positions(indices, n_keep, m_group)
    dense = np.zeros((k, values.shape[1]), dtype=np.int8)
    rows, cols = np.nonzero(pos < k)
    dense[pos[rows, cols], cols] = values[rows, cols]
    return dense


def model_layout(b: np.ndarray, n_keep: int, m_group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude-prune ``b`` (``K x N``) along ``K`` and pack it the way :mod:`hwsim.sim.sparse` wants it.

    :func:`hwsim.workload.sparsity.compress` on axis 0 gives ``(N, groups, n_keep)`` values and indices, every
    group with ``n_keep`` slots, the kept ones first. The model's row ``r = g*n_keep + s`` is slot ``s`` of group
    ``g``; a partial last group of ``p`` weights has only ``min(n_keep, p)`` rows there, which are exactly its
    filled slots, so cutting the stacked rows at ``K'`` drops its trailing empty slots and nothing else.

    Returns
    -------
    tuple of numpy.ndarray
        ``values`` (``K' x N`` int8), ``indices`` (``K' x N`` uint8) and the pruned dense ``B``.
    """
    k, n = b.shape
    packed = compress(b, NMSparsity(n_keep, m_group), axis=0)
    kc = compressed_rows(k, n_keep, m_group)
    values = np.ascontiguousarray(packed.values.transpose(1, 2, 0).reshape(-1, n)[:kc])
    indices = np.ascontiguousarray(packed.indices.transpose(1, 2, 0).reshape(-1, n)[:kc])
    return values, indices, packed.decompress()


def random_layout(k: int, n: int, n_keep: int, m_group: int, kind: str, rng: np.random.Generator,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Random compressed ``(values, indices)``: distinct indices per group and column, in random order.

    A partial last group's indices are drawn from all ``m_group`` positions, so some name a ``k >= K``: empty
    slots, whose value is 0 (the model's rule). Dense mode keeps every weight in place.
    """
    kc = compressed_rows(k, n_keep, m_group)
    if n_keep == m_group:
        indices = np.repeat((np.arange(kc) % m_group)[:, None], n, axis=1).astype(np.uint8)
    else:
        indices = np.empty((kc, n), dtype=np.uint8)
        for start in range(0, kc, n_keep):
            slots = min(n_keep, kc - start)
            for col in range(n):
                indices[start:start + slots, col] = rng.choice(m_group, size=slots, replace=False)
    values = operands((kc, n), kind, rng)
    values[slot_positions(indices, n_keep, m_group) >= k] = 0
    return values, indices


def k_for_rows(kc: int, n_keep: int, m_group: int, rng: np.random.Generator | None = None) -> int:
    """A ``K`` with ``compressed_rows(K) == kc``, not a multiple of ``m_group`` whenever one exists.

    When ``kc`` is a whole number of groups the partial group has ``p`` weights, ``n_keep <= p < m_group``: drawn
    from ``rng``, or ``m_group - 1`` (the window clipped by one element) without one.
    """
    q, s = divmod(kc, n_keep)
    if n_keep == m_group or s:
        k = kc if n_keep == m_group else q * m_group + s
    else:
        # K' = q*n_keep also arises from q-1 full groups and a partial one of p >= n_keep weights.
        p = m_group - 1 if rng is None else int(rng.integers(n_keep, m_group))
        k = (q - 1) * m_group + p
    assert compressed_rows(k, n_keep, m_group) == kc
    return k


# ------------------------------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------------------------------


def make_cases(rows: int, cols: int, flow: str, n_keep: int, m_group: int, rng: np.random.Generator) -> list[Case]:
    """The dense series (sizes in the fold space, ``K'`` for ``K``) plus one magnitude-pruned ``B``."""
    cases = []
    for label, fold_space, kind, extra in fold_plan(rows, cols, rng, (("pruned", (rows + 2, cols + 1, 3), "pruned",
                                                                        {}),)):
        m, kc, n = gemm_shape(flow, *fold_space)
        k = k_for_rows(kc, n_keep, m_group, rng)
        a = operands((m, k), "random" if kind == "pruned" else kind, rng)
        if kind == "pruned":
            values, indices, _ = model_layout(operands((k, n), "random", rng), n_keep, m_group)
        else:
            values, indices = random_layout(k, n, n_keep, m_group, kind, rng)
        b = decompress(values, indices, k, n_keep, m_group)
        cases.append(Case(f"{label} {m}x{k}@{k}x{n} (K'={kc})", a, {"w_value": values, "w_index": indices},
                          a.astype(np.int64) @ b.astype(np.int64), **extra))
    return with_back_to_back(cases)


def run_and_check(dut: SparseSystolicGemm, cases: list[Case], rows: int, cols: int, flow: str, n_keep: int,
                  m_group: int, seed: int) -> list:
    """Run the series on ``dut``; assert that nothing disagrees with the sparse stepped model."""
    refs = [simulate_sparse_gemm(c.a, c.weights["w_value"], c.weights["w_index"], k=c.a.shape[1], n_keep=n_keep,
                                 m_group=m_group, rows=rows, cols=cols, dataflow=flow) for c in cases]
    observed = run_series(dut, cases, [ref.cycles for ref in refs])
    problems = [p for case, obs, ref in zip(cases, observed, refs)
                for p in check(case, obs, ref, flow, f"{rows}x{cols} {flow} {n_keep}:{m_group}")]
    assert not problems, "\n".join(problems) + f" (seed={seed})"
    return observed


def run_engine(rows: int, cols: int, flow: str, n_keep: int, m_group: int, seed: int) -> None:
    """Build one engine and run its case series against the model."""
    rng = np.random.default_rng([seed, rows, cols, FLOWS.index(flow), n_keep, m_group])
    cases = make_cases(rows, cols, flow, n_keep, m_group, rng)
    dut = SparseSystolicGemm(SystolicArray(rows, cols, flow), n_keep=n_keep, m_group=m_group, **memory_sizes(cases))
    run_and_check(dut, cases, rows, cols, flow, n_keep, m_group, seed)


@pytest.mark.parametrize(("n_keep", "m_group"), SPARSITIES, ids=[f"{n}of{m}" for n, m in SPARSITIES])
@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize(("rows", "cols"), ARRAYS, ids=[f"{r}x{c}" for r, c in ARRAYS])
def test_sparse_series_matches_stepped_model(rows, cols, flow, n_keep, m_group, seed):
    run_engine(rows, cols, flow, n_keep, m_group, seed)


#: Arrays whose row count is not a multiple of ``n_keep``: a ws row fold then starts mid-group (the fold-origin
#: walk wraps), which the square arrays above with n_keep in {1, 2, 4} never do.
ODD = [(3, 2, 2, 8), (2, 3, 3, 4)]


@pytest.mark.parametrize(("rows", "cols", "n_keep", "m_group"), ODD, ids=[f"{r}x{c}-{n}of{m}" for r, c, n, m in ODD])
@pytest.mark.parametrize("flow", FLOWS)
def test_row_folds_starting_mid_group(rows, cols, n_keep, m_group, flow, seed):
    run_engine(rows, cols, flow, n_keep, m_group, seed)


def test_smallest_design_extreme_product(seed):
    """1x1 array, 1:2, K = 1 (a partial group of one): (-128) * (-128) = 16384, the window clipped to one."""
    one = np.array([[-128]], dtype=np.int8)
    case = Case("1x1@1x1", one, {"w_value": one, "w_index": np.array([[0]], dtype=np.uint8)}, np.array([[16384]]),
                hold_start=True)
    for flow in FLOWS:
        dut = SparseSystolicGemm(SystolicArray(1, 1, flow), n_keep=1, m_group=2, max_m=1, max_n=1, max_k=1)
        (obs,) = run_and_check(dut, [case], 1, 1, flow, 1, 2, seed)
        assert obs.product[0, 0] == 16384


def test_model_layout_matches_compress():
    """The pruned layout is valid for the model and decompresses to compress's own decompression."""
    rng = np.random.default_rng(0)
    for n_keep, m_group, k in ((2, 4, 7), (2, 8, 9), (1, 4, 5), (4, 4, 6), (3, 8, 17)):
        b = operands((k, 3), "random", rng)
        values, indices, pruned = model_layout(b, n_keep, m_group)
        assert values.shape == (compressed_rows(k, n_keep, m_group), 3)
        np.testing.assert_array_equal(decompress(values, indices, k, n_keep, m_group), pruned)
        a = operands((2, k), "random", rng)
        ref = simulate_sparse_gemm(a, values, indices, k=k, n_keep=n_keep, m_group=m_group, rows=2, cols=2,
                                   dataflow="ws")
        np.testing.assert_array_equal(ref.product, a.astype(np.int32) @ pruned.astype(np.int32))


# ------------------------------------------------------------------------------------------------------------------
# The PE alone
# ------------------------------------------------------------------------------------------------------------------


def wrap32(value: int) -> int:
    value %= 1 << 32
    return value - (1 << 32) if value >= 1 << 31 else value


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("window", [1, 4, 8])
def test_pe_against_python_reference(flow, window, seed):
    """Random windows, indices, tags and partial sums near the int32 limits, every output every cycle."""
    rng = random.Random(f"{seed}-{flow}-{window}")
    dut = SparseProcessingElement(flow, window=window, tag_width=8)
    errors: list[str] = []

    def operand() -> int:
        return rng.choice([-128, 127, 0, rng.randrange(-128, 128)])

    def tag() -> int:
        return -1 if rng.random() < 1 / 3 else rng.randrange(0, 60)

    async def bench(ctx):
        ws = flow == "ws"
        w, w_index, w_valid, acc, acc_tag = 0, 0, 0, 0, -1
        for cycle in range(300):
            win = [operand() for _ in range(window)]
            select = rng.randrange(window)
            inputs = {"x_in" if ws else "a_in": win, "x_tag_in" if ws else "a_tag_in": tag()}
            if ws:
                inputs.update(load=rng.random() < 0.3, w_in=operand(), w_valid_in=rng.random() < 0.7,
                              p_in=rng.randrange(-(1 << 31), 1 << 31), p_tag_in=tag())
                if window > 1:
                    inputs["w_index_in"] = select
            else:
                inputs.update(drain=rng.random() < 0.3, b_in=operand(), b_tag_in=tag(),
                              acc_in=rng.randrange(-(1 << 31), 1 << 31), acc_tag_in=tag())
                if window > 1:
                    inputs["b_index_in"] = select
            for name, value in inputs.items():
                ctx.set(dut.port(name), value)
            if ws:
                picked = win[w_index]
                want = {"picked": picked, "sum": wrap32(inputs["p_in"] + w * picked),
                        "sum_tag": inputs["x_tag_in"] if w_valid else inputs["p_tag_in"]}
            else:
                picked = win[select if window > 1 else 0]
                want = {"picked": picked}
            for name, value in want.items():
                if ctx.get(dut.port(name)) != value:
                    errors.append(f"cycle {cycle}: {name} = {ctx.get(dut.port(name))}, expected {value}")
            await ctx.tick()
            if ws:
                if inputs["load"]:
                    w, w_valid = inputs["w_in"], int(inputs["w_valid_in"])
                    w_index = select if window > 1 else 0
                regs = {"w_out": w, "w_valid_out": w_valid, "x_out": win, "x_tag_out": inputs["x_tag_in"],
                        "p_out": want["sum"], "p_tag_out": want["sum_tag"]}
            else:
                if inputs["drain"]:
                    acc, acc_tag = inputs["acc_in"], inputs["acc_tag_in"]
                else:
                    acc = wrap32(acc + inputs["b_in"] * picked)
                    if inputs["a_tag_in"] >= 0 and inputs["b_tag_in"] >= 0:
                        acc_tag = inputs["a_tag_in"] + inputs["b_tag_in"]
                regs = {"a_out": win, "a_tag_out": inputs["a_tag_in"], "b_out": inputs["b_in"],
                        "b_tag_out": inputs["b_tag_in"], "acc_out": acc, "acc_tag_out": acc_tag}
            for name, value in regs.items():
                got = ctx.get(dut.port(name))
                got = list(got) if isinstance(value, list) else got
                if got != value:
                    errors.append(f"after cycle {cycle}: {name} = {got}, expected {value}")
            if errors:
                return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert not errors, f"{errors[0]} (seed={seed})"


# ------------------------------------------------------------------------------------------------------------------
# Interface
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flow", "n_keep", "m_group", "index_width"),
                         [("ws", 2, 4, 2), ("os", 2, 8, 3), ("ws", 4, 4, 2), ("os", 1, 2, 1), ("ws", 1, 1, 1)])
def test_gemm_signature(flow, n_keep, m_group, index_width):
    dut = SparseSystolicGemm(SystolicArray(4, 3, flow), n_keep=n_keep, m_group=m_group, max_m=5, max_n=7, max_k=20)
    w = dut.addr_width
    assert w == (7 * 20 - 1).bit_length() and dut.tag_width == w + 1
    tw = dut.tag_width
    assert port_table(dut) == {
        "start": ("in", 1, False), "m": ("in", 16, False), "n": ("in", 16, False), "k": ("in", 16, False),
        "busy": ("out", 1, False), "done": ("out", 1, False),
        "a_we": ("in", 1, False), "a_addr": ("in", w, False), "a_wdata": ("in", 8, True),
        "w_we": ("in", 1, False), "w_addr": ("in", w, False), "w_value": ("in", 8, True),
        "w_index": ("in", index_width, False),
        "o_addr": ("in", w, False), "o_rdata": ("out", 32, True),
        "ifmap_lane": ("out", tw * 4, False), "filter_lane": ("out", tw * 3, False),
        "ofmap_lane": ("out", tw * 3, False),
    }


def test_core_has_no_memories_and_reads_whole_windows():
    """The core takes R x window A addresses (one per window element) and the compressed slot per column."""
    core = SparseSystolicCore(SystolicArray(2, 3, "ws"), n_keep=2, m_group=8, max_m=4, max_n=4, max_k=9)
    ports = port_table(core)
    iw = core.geometry.index_width
    assert ports["a_raddr"] == ("out", iw * 8 * 2, False) and ports["a_rdata"] == ("in", 8 * 8 * 2, False)
    assert ports["b_raddr"] == ("out", iw * 3, False) and ports["b_rindex"] == ("in", 3 * 3, False)
    assert ports["o_rdata"] == ("in", 32 * 3, False)
    dense = SparseSystolicCore(SystolicArray(2, 3, "os"), n_keep=4, m_group=4, max_m=4, max_n=4, max_k=9)
    dense_ports = port_table(dense)
    assert "b_rindex" not in dense_ports and "o_rdata" not in dense_ports  # dense mode: no multiplexer
    assert dense_ports["a_rdata"] == ("in", 8 * 2, False)  # windows of one activation

    assert memories(Fragment.get(core, None)) == 0
    gemm = SparseSystolicGemm(SystolicArray(2, 3, "ws"), n_keep=2, m_group=8, max_m=4, max_n=4, max_k=9)
    assert memories(Fragment.get(gemm, None)) == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"arch": SystolicArray(2, 2, "is")}, "dataflow 'is' is not a SAT mode: the sparse RTL runs ws or os"),
    ({"arch": SystolicArray(2, 2, precision="int16")},
     "the systolic RTL implements int8 x int8 -> int32 MACs only; arch.precision is 'int16'"),
    ({"arch": (2, 2)}, "arch must be a hwsim.arch.SystolicArray, got tuple"),
    ({"m_group": 6}, "m_group must be a power of two from 1 to 256 (the index is log2(m_group) bits), got 6"),
    ({"m_group": 512}, "m_group must be a power of two from 1 to 256 (the index is log2(m_group) bits), got 512"),
    ({"n_keep": 5}, "n_keep must be a whole number from 1 to m_group = 4, got 5"),
    ({"n_keep": 0}, "n_keep must be a whole number from 1 to m_group = 4, got 0"),
    ({"max_k": 0}, "max_k must be a whole number from 1 to 65535, got 0"),
    ({"max_m": 2048, "max_k": 1024},
     f"memory A would hold {2048 * 1024} words, more than {1 << 20}; lower max_m, max_n or max_k"),
])
def test_bad_arguments(kwargs, message):
    args = {"arch": SystolicArray(2, 2), "n_keep": 2, "m_group": 4, "max_m": 4, "max_n": 4, "max_k": 4, **kwargs}
    arch = args.pop("arch")
    assert value_error(SparseSystolicGemm, arch, **args) == message
    if "memory" not in message:
        assert value_error(SparseSystolicCore, arch, **args) == message


@pytest.mark.parametrize(("flow", "window", "tag_width", "message"), [
    ("is", 4, 8, "dataflow 'is' is not a SAT mode: the sparse RTL runs ws or os"),
    ("rs", 4, 8, "dataflow 'rs' is not a SAT mode: the sparse RTL runs ws or os"),
    ("xs", 4, 8, "unknown dataflow 'xs': the sparse RTL runs ws or os"),
    ("ws", 3, 8, "window must be a power of two from 1 to 256, got 3"),
    ("os", 4, 1, "tag_width must be an int >= 2 (tags hold -1), got 1"),
])
def test_pe_bad_arguments(flow, window, tag_width, message):
    assert value_error(SparseProcessingElement, flow, window=window, tag_width=tag_width) == message
