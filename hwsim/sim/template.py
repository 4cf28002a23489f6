"""Cycle model of a template sub-accelerator (NVDLA-, ShiDianNao-, Eyeriss-like): MAESTRO-style, per layer.

A layer is the loop nest ``G N K C Y X R S`` (groups, batch, output and input channels, output rows and columns,
filter rows and columns). The template (:class:`hwsim.arch.templates.Template`) spreads one dimension within a
cluster of PEs and one or more across the clusters, runs its ``pe_loops`` to the full inside a PE, and walks every other
dimension in ``temporal_order``. One walk position is a **step**:

* tiles: a spatial dimension's tile is the PEs it gets (``min(size, cluster)`` within; across, the first
  dimension takes ``min(size, clusters)`` and the next what is left, ``clusters // tile`` of the first), a ``pe_loop``'s is its whole size, every other dimension's is 1; a dimension takes
  ``trips = ceil(size / tile)`` steps, and a layer ``prod(trips)`` steps;
* compute per step: the product of the ``pe_loops`` (one MAC per PE per cycle), the same for partial edge tiles;
* reuse: an operand's tile (weights ``G K C R S``, inputs ``G N C Y X R S``, outputs ``G N K Y X``) stays in the
  PEs while only loops it does not depend on advance *inside* its innermost relevant loop; each time it changes it
  crosses the NoC again. When the innermost relevant loop of the inputs is an output row or column, the tiles
  overlap (a sliding window) and only the new rows or columns cross. Outputs whose reduction (C, R or S) is walked
  outside them are left as 32-bit partial sums and read back on the next visit;
* time, with double buffering: the first step takes ingress + compute, every later step
  ``max(ingress, compute, egress)``, and the last outputs leave after it. Steps are grouped by the outermost loop
  that advanced, so the sum has one term per loop, not per step. NoC delay for ``d`` bytes is
  ``hop_latency + ceil(d / bandwidth) - 1`` (MAESTRO's, with one hop of a bus).

Buffers: a PE needs its double-buffered weight and input tiles and its partial sums in L1; the shared buffer (L2)
needs the double-buffered weight and input tiles of a step and room for the output tile it drains (32-bit when
partial sums go back to L2). A layer that needs more is an :class:`InputError` naming the layer,
the buffer and both sizes. A layer whose weights, inputs and outputs together exceed L2 **spills**: every NoC
transfer then goes to DRAM and back; the report carries the spilled bytes (``spill_bytes``) and energy pays them.
Otherwise DRAM moves each operand once. DRAM time is not modelled: the NoC bandwidth is the shared-memory
bandwidth NASAIC budgets.

Memory-only layers (pool, add, concat, upsample, ...) stream their inputs in and their output out through the NoC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from hwsim.arch.templates import SubAccelerator
from hwsim.errors import InputError
from hwsim.types import PRECISIONS
from hwsim.workload.layers import Conv2d, ConvTranspose2d
from hwsim.workload.network import LayerStats, Network

_OPERAND_DIMS = {"weight": frozenset("GKCRS"), "input": frozenset("GNCYXRS"), "output": frozenset("GNKYX")}
_FREE_KINDS = ("reshape", "slice")


@dataclass(frozen=True)
class LoopNest:
    """A compute layer as a convolution loop nest (a GEMM is ``X = M, K = N, C = K``, everything else 1)."""

    sizes: tuple[tuple[str, int], ...]
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)

    def __getitem__(self, dim: str) -> int:
        return dict(self.sizes)[dim]

    @property
    def macs(self) -> int:
        return math.prod(size for _, size in self.sizes)


def loop_nest(network: Network, stats: LayerStats) -> LoopNest | None:
    """The loop nest of a compute layer, or ``None`` for a memory-only one."""
    gemm = stats.gemm
    if gemm is None:
        return None
    layer = network.layer(stats.name)
    if isinstance(layer, Conv2d):
        c = stats.input_shapes[0][0]
        k, y, x = stats.output_shape
        g = layer.groups
        sizes = dict(G=g, N=network.batch, K=k // g, C=c // g, Y=y, X=x, R=layer.kernel[0], S=layer.kernel[1])
        return LoopNest(tuple(sizes.items()), layer.stride, layer.dilation)
    if isinstance(layer, ConvTranspose2d):
        _, h, w = stats.input_shapes[0]  # col2im: every input pixel times the weights (see hwsim.workload.lowering)
        sizes = dict(G=gemm.repeat, N=network.batch, K=gemm.n, C=gemm.k, Y=h, X=w, R=1, S=1)
        return LoopNest(tuple(sizes.items()))
    sizes = dict(G=gemm.repeat, N=1, K=gemm.n, C=gemm.k, Y=1, X=gemm.m, R=1, S=1)
    return LoopNest(tuple(sizes.items()))


@dataclass(frozen=True)
class TemplateLayerCounts:
    """One layer on one sub-accelerator. Buffer accesses are in elements, NoC and DRAM traffic in bytes."""

    layer: str
    kind: str
    macs: int
    steps: int
    compute_cycles: int  # steps x compute per step: the time with an infinitely fast NoC
    cycles: int
    pes: int
    used_pes: int  # PEs busy in a full step
    l1_reads: int
    l1_writes: int
    l2_reads: int
    l2_writes: int
    l2_weight_reads: int  # of l2_reads, weights (the rest are inputs and partial sums)
    l1_psum_accesses: int  # of l1_reads + l1_writes, those of 32-bit partial sums
    l2_psum_accesses: int  # of l2_reads + l2_writes, those of 32-bit partial sums
    noc_bytes: int
    dram_bytes: int
    spill_bytes: int
    l1_need_bytes: int
    l2_need_bytes: int

    @property
    def utilization(self) -> float:
        return self.macs / (self.cycles * self.pes) if self.cycles else 0.0

    @property
    def noc_stall_cycles(self) -> int:
        """Cycles beyond the compute: the first ingress, the last egress, and steps that waited on the NoC."""
        return self.cycles - self.compute_cycles


def template_layer(network: Network, stats: LayerStats, sub: SubAccelerator) -> TemplateLayerCounts:
    """Cycles, buffer accesses and traffic of one layer of ``network`` on ``sub``."""
    nest = loop_nest(network, stats)
    width = PRECISIONS[sub.precision] / 8
    if nest is None:
        inputs = sum(math.prod(s) for s in stats.input_shapes) * network.batch
        output = math.prod(stats.output_shape) * network.batch
        return _memory_layer(stats, sub, 0 if stats.kind in _FREE_KINDS else inputs,
                             0 if stats.kind in _FREE_KINDS else output, width)
    in_shape = stats.input_shapes[0]
    input_elements = math.prod(in_shape) * network.batch
    counts = _compute_layer(nest, sub, input_elements)
    if counts.l1_need_bytes > sub.l1_bytes:
        raise InputError(f"needs {counts.l1_need_bytes} bytes of L1 per PE on {sub.template.name} "
                         f"(has {sub.l1_bytes})", layer=stats.name, field="l1_bytes", value=sub.l1_bytes)
    if counts.l2_need_bytes > sub.l2_kib * 1024:
        raise InputError(f"needs {counts.l2_need_bytes / 1024:g} KiB of L2 for one double-buffered step on "
                         f"{sub.template.name} (has {sub.l2_kib:g})", layer=stats.name, field="l2_kib",
                         value=sub.l2_kib)
    return TemplateLayerCounts(layer=stats.name, kind=stats.kind, **counts.__dict__)


@dataclass(frozen=True)
class _Counts:
    macs: int
    steps: int
    compute_cycles: int
    cycles: int
    pes: int
    used_pes: int
    l1_reads: int
    l1_writes: int
    l2_reads: int
    l2_writes: int
    l2_weight_reads: int  # of l2_reads, weights (the rest are inputs and partial sums)
    l1_psum_accesses: int
    l2_psum_accesses: int
    noc_bytes: int
    dram_bytes: int
    spill_bytes: int
    l1_need_bytes: int
    l2_need_bytes: int


def _noc_cycles(nbytes: float, bandwidth: float, hop_latency: int) -> int:
    return 0 if nbytes <= 0 else hop_latency + math.ceil(nbytes / bandwidth - 1e-9) - 1


@lru_cache(maxsize=65536)
def _compute_layer(nest: LoopNest, sub: SubAccelerator, input_elements: int) -> _Counts:
    t = sub.template
    size = dict(nest.sizes)
    pes = sub.pes
    psum_bytes = sub.psum_bits // 8
    cluster = t.cluster(size, pes)
    clusters = pes // cluster
    tile = {d: 1 for d in size}
    for d in t.pe_loops:
        tile[d] = size[d]
    tile[t.within] = min(size[t.within], cluster)
    free = clusters
    for d in t.across:
        tile[d] = min(size[d], free)
        free //= tile[d]
    trips = {d: -(-size[d] // tile[d]) for d in size}
    avg = {d: size[d] / trips[d] for d in size}  # mean tile, edge tiles included
    used_pes = tile[t.within] * math.prod(tile[d] for d in t.across)
    compute_per_step = math.prod(size[d] for d in t.pe_loops)
    steps = math.prod(trips.values())
    width = PRECISIONS[sub.precision] / 8
    (sy, sx), (dy, dx) = nest.stride, nest.dilation

    def window(rows: float, r: float, stride: int, dil: int) -> float:
        return (rows - 1) * stride + (r - 1) * dil + 1

    tile_words = {
        "weight": math.prod(avg[d] for d in "GKCRS"),
        "input": avg["G"] * avg["N"] * avg["C"] * window(avg["Y"], avg["R"], sy, dy) * window(avg["X"], avg["S"], sx, dx),
        "output": math.prod(avg[d] for d in "GNKYX"),
    }
    pe_r = size["R"] if "R" in t.pe_loops else 1
    pe_s = size["S"] if "S" in t.pe_loops else 1
    pe_words = {
        "weight": math.prod(size[d] for d in "GKCRS" if d in t.pe_loops),
        "input": math.prod(size[d] for d in "GNC" if d in t.pe_loops) * window(1, pe_r, sy, dy) * window(1, pe_s, sx, dx),
        "output": math.prod(size[d] for d in "GNKYX" if d in t.pe_loops),
    }

    order = [d for d in t.temporal_order if trips[d] > 1]  # loops that actually step, outermost first
    innermost = {op: max((i for i, d in enumerate(order) if d in dims), default=-1)
                 for op, dims in _OPERAND_DIMS.items()}
    visits = {op: math.prod(trips[d] for d in order[:j + 1]) for op, j in innermost.items()}
    distinct = {op: math.prod(trips[d] for d in dims) for op, dims in _OPERAND_DIMS.items()}

    # A sliding window: when the inputs' innermost loop is an output row or column, a step brings only new lines.
    j_in = innermost["input"]
    slide = 1.0
    if j_in >= 0 and order[j_in] in "YX":
        axis = order[j_in]
        extent = window(avg[axis], avg["R" if axis == "Y" else "S"], sy if axis == "Y" else sx,
                        dy if axis == "Y" else dx)
        slide = min(1.0, avg[axis] * (sy if axis == "Y" else sx) / extent)

    def changes(op: str, j: int) -> bool:
        return innermost[op] >= j

    revisits = visits["output"] - distinct["output"]
    psum_fraction = revisits / visits["output"]  # of output-tile changes, those that leave a partial sum
    out_width = psum_fraction * psum_bytes + (1 - psum_fraction) * width
    bandwidth = sub.bytes_per_cycle
    hop = t.noc_hop_latency_cycles

    first_in = (tile_words["weight"] + tile_words["input"]) * width
    cycles = _noc_cycles(first_in, bandwidth, hop) + compute_per_step
    weight_words = tile_words["weight"]
    input_words = tile_words["input"]
    for j, d in enumerate(order):
        count = (trips[d] - 1) * math.prod(trips[e] for e in order[:j])
        ingress = egress = 0.0
        if changes("weight", j):
            ingress += tile_words["weight"] * width
            weight_words += count * tile_words["weight"]
        if changes("input", j):
            lines = slide if j == j_in else 1.0
            ingress += tile_words["input"] * lines * width
            input_words += count * tile_words["input"] * lines
        if changes("output", j):
            ingress += tile_words["output"] * psum_fraction * psum_bytes
            egress += tile_words["output"] * out_width
        delay = max(_noc_cycles(ingress, bandwidth, hop), compute_per_step, _noc_cycles(egress, bandwidth, hop))
        cycles += count * delay
    cycles += _noc_cycles(tile_words["output"] * width, bandwidth, hop)

    macs = nest.macs
    outputs = math.prod(size[d] for d in "GNKYX")
    weights = math.prod(size[d] for d in "GKCRS")
    output_words = outputs * visits["output"] / distinct["output"]
    psum_words = outputs * revisits / distinct["output"]  # read back, and written as partial sums before
    weight_words, input_words = round(weight_words), round(input_words)

    # Each word a PE needs lands in its L1: a tile shared by several PEs is multicast to each.
    def fanout(op: str) -> float:
        return max(1.0, used_pes * pe_words[op] / tile_words[op]) if tile_words[op] else 1.0

    l1_fill = weight_words * fanout("weight") + input_words * fanout("input")
    psum_pe = round(psum_words * fanout("output"))
    out_pe = round(output_words * fanout("output"))
    l1_reads = 3 * macs + out_pe  # weight, input, partial sum per MAC; outputs read out to the NoC
    l1_writes = macs + round(l1_fill) + psum_pe  # partial sum per MAC; fills; partial sums returned
    l2_reads = weight_words + input_words + round(psum_words)
    l2_writes = round(output_words)
    noc = round((weight_words + input_words) * width + psum_words * psum_bytes
                + (output_words - psum_words) * width + psum_words * psum_bytes)
    once = round((weights + input_elements + outputs) * width)
    spill = max(0, noc - once) if once > sub.l2_kib * 1024 else 0

    l1_need = math.ceil(2 * (pe_words["weight"] + pe_words["input"]) * width + pe_words["output"] * psum_bytes)
    full = {d: tile[d] for d in size}
    l2_step = (2 * (math.prod(full[d] for d in "GKCRS")
                    + full["G"] * full["N"] * full["C"] * window(full["Y"], full["R"], sy, dy)
                    * window(full["X"], full["S"], sx, dx)) * width
               + math.prod(full[d] for d in "GNKYX") * (psum_bytes if revisits else width))
    return _Counts(
        macs=macs, steps=steps, compute_cycles=steps * compute_per_step, cycles=cycles, pes=pes, used_pes=used_pes,
        l1_reads=l1_reads, l1_writes=l1_writes, l2_reads=l2_reads, l2_writes=l2_writes, l2_weight_reads=weight_words,
        l1_psum_accesses=2 * macs + psum_pe + out_pe, l2_psum_accesses=2 * round(psum_words),
        noc_bytes=noc, dram_bytes=once + spill, spill_bytes=spill, l1_need_bytes=l1_need,
        l2_need_bytes=math.ceil(l2_step),
    )


def _memory_layer(stats: LayerStats, sub: SubAccelerator, inputs: int, output: int,
                  width: float) -> TemplateLayerCounts:
    bandwidth = sub.bytes_per_cycle
    hop = sub.template.noc_hop_latency_cycles
    in_bytes, out_bytes = round(inputs * width), round(output * width)
    cycles = 0 if not (in_bytes or out_bytes) else (
        max(_noc_cycles(in_bytes, bandwidth, hop), _noc_cycles(out_bytes, bandwidth, hop)) + hop)
    return TemplateLayerCounts(
        layer=stats.name, kind=stats.kind, macs=0, steps=0, compute_cycles=0, cycles=cycles, pes=sub.pes, used_pes=0,
        l1_reads=0, l1_writes=0, l2_reads=inputs, l2_writes=output, l2_weight_reads=0, l1_psum_accesses=0, l2_psum_accesses=0,
        noc_bytes=in_bytes + out_bytes, dram_bytes=in_bytes + out_bytes, spill_bytes=0, l1_need_bytes=0,
        l2_need_bytes=0,
    )
