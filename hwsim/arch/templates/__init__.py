"""Sub-accelerator templates taken from proven designs (NASAIC): NVDLA-, ShiDianNao- and Eyeriss-like.

A :class:`Template` is a dataflow described in a data file (``dataflows/nvdla.json`` ..., read by
:mod:`hwsim.io.template_spec`): which loop dimension is spread across clusters of PEs and which within a cluster,
which loops a PE runs inside one step, and the order of the remaining (temporal) loops. A :class:`SubAccelerator`
is one instance: a template with its PE count, NoC bandwidth and buffer sizes. The cycle model is
:mod:`hwsim.sim.template`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.errors import InputError, positive, whole
from hwsim.types import PRECISIONS


@dataclass(frozen=True)
class Template:
    """A dataflow template (see ``dataflows/README.md`` for the fields)."""

    name: str
    title: str
    stationary: str
    across: tuple[str, ...]  # spread over the clusters, the first as far as it goes, then the next
    within: str
    cluster_size: int | str
    pe_loops: tuple[str, ...]
    temporal_order: tuple[str, ...]
    noc_hop_latency_cycles: int
    source: str = field(default="", repr=False, compare=False)

    def cluster(self, sizes: dict[str, int], pes: int) -> int:
        """PEs per cluster for a layer of loop sizes ``sizes`` on ``pes`` PEs."""
        size = self.cluster_size if isinstance(self.cluster_size, int) else sizes[self.cluster_size]
        return max(1, min(size, pes))


@dataclass(frozen=True)
class SubAccelerator:
    """One sub-accelerator: a template instance with its PEs, NoC bandwidth and buffers.

    Parameters
    ----------
    template
        A :class:`Template` (:func:`hwsim.io.template_spec.load_template` reads a bundled one by name, or a
        template file).
    pes
        Processing elements (one MAC per cycle each).
    bandwidth_gbps
        NoC bandwidth between the shared buffer (L2) and the PEs, GB/s; at the design's clock it is
        ``bandwidth_gbps * 1000 / clock_mhz`` bytes per cycle. NASAIC's budget of 64 GB/s is split between the
        sub-accelerators.
    l1_bytes
        Per-PE buffer (scratchpad), bytes.
    l2_kib
        Shared buffer, KiB.
    precision
        Operand type of the MACs (activations and weights).
    clock_mhz
        Clock of the PEs and the NoC.
    psum_bits
        Width of a partial sum kept in L1 or sent back to L2 (the PEs accumulate at 32 bits).
    """

    template: Template
    pes: int
    bandwidth_gbps: float
    l1_bytes: int = 1024
    l2_kib: float = 256.0
    precision: str = "int8"
    clock_mhz: float = 1000.0
    psum_bits: int = 32

    def __post_init__(self) -> None:
        if not isinstance(self.template, Template):
            raise InputError("must be a Template (hwsim.io.template_spec.load_template reads one)", field="template",
                             value=self.template)
        whole(self.pes, "pes")
        positive(self.bandwidth_gbps, "bandwidth_gbps")
        whole(self.l1_bytes, "l1_bytes")
        positive(self.l2_kib, "l2_kib")
        positive(self.clock_mhz, "clock_mhz")
        if self.psum_bits not in (8, 16, 24, 32, 40, 48, 56, 64):
            raise InputError("must be a whole number of bytes in bits, from 8 to 64", field="psum_bits",
                             value=self.psum_bits)
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision (known: {', '.join(PRECISIONS)})", field="precision",
                             value=self.precision)

    @property
    def bytes_per_cycle(self) -> float:
        """NoC bandwidth per clock."""
        return self.bandwidth_gbps * 1e3 / self.clock_mhz

    @property
    def label(self) -> str:
        return f"{self.template.name}-{self.pes}pe-{self.bandwidth_gbps:g}GBps"


__all__ = ["SubAccelerator", "Template"]
