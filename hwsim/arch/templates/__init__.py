"""Sub-accelerator templates taken from proven designs (NASAIC): NVDLA-, ShiDianNao- and Eyeriss-like.

A :class:`Template` is a dataflow read from a data file (``dataflows/nvdla.json`` ...): which loop dimension is
spread across clusters of PEs and which within a cluster, which loops a PE runs inside one step, and the order of
the remaining (temporal) loops. A :class:`SubAccelerator` is one instance: a template with its PE count, NoC
bandwidth and buffer sizes. The cycle model is :mod:`hwsim.sim.template`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hwsim.errors import InputError
from hwsim.io.template_spec import BUNDLED_TEMPLATES, check_template_doc, read_template_doc
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


@lru_cache(maxsize=None)
def load_template(ref: str | Path) -> Template:
    """A bundled template by name (``nvdla``, ``shidiannao``, ``eyeriss``) or a user's ``hwsim-template`` file."""
    doc, file = read_template_doc(ref)
    doc = check_template_doc(doc, file)
    spatial = doc["spatial"]
    return Template(
        name=doc["name"], title=doc.get("title", doc["name"]), stationary=doc["stationary"],
        across=tuple(spatial["across"]) if isinstance(spatial["across"], list) else (spatial["across"],), within=spatial["within"], cluster_size=spatial["cluster_size"],
        pe_loops=tuple(doc["pe_loops"]), temporal_order=tuple(doc["temporal_order"]),
        noc_hop_latency_cycles=doc["noc_hop_latency_cycles"], source=doc["source"],
    )


def _positive(name: str, value: object, *, whole: bool = False) -> None:
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not value > 0:
        raise InputError(f"must be a {'whole number' if whole else 'number'} > 0", field=name, value=value)


@dataclass(frozen=True)
class SubAccelerator:
    """One sub-accelerator: a template instance with its PEs, NoC bandwidth and buffers.

    Parameters
    ----------
    template
        A :class:`Template`, a bundled template name or a template file.
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

    template: Template | str
    pes: int
    bandwidth_gbps: float
    l1_bytes: int = 1024
    l2_kib: float = 256.0
    precision: str = "int8"
    clock_mhz: float = 1000.0
    psum_bits: int = 32

    def __post_init__(self) -> None:
        if not isinstance(self.template, Template):
            object.__setattr__(self, "template", load_template(self.template))
        _positive("pes", self.pes, whole=True)
        _positive("bandwidth_gbps", self.bandwidth_gbps)
        _positive("l1_bytes", self.l1_bytes, whole=True)
        _positive("l2_kib", self.l2_kib)
        _positive("clock_mhz", self.clock_mhz)
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


__all__ = ["BUNDLED_TEMPLATES", "SubAccelerator", "Template", "load_template"]
