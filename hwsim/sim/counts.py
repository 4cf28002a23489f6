"""What the cycle models count: one frozen row per layer, totals by ``+``.

Counts are for the whole batch; SRAM counts are in elements, DRAM traffic in bytes. The cost module prices them
(:mod:`hwsim.cost`), the report assembles counts and prices (:mod:`hwsim.report.systolic`).
"""

from __future__ import annotations

from dataclasses import fields
from hwsim.types import Record, record


@record
class LayerCounts(Record):
    """One layer on one array. Counts are for the whole batch; SRAM counts are in elements, DRAM in bytes."""

    layer: str
    kind: str
    dataflow: str  # the mapping that laid it ("" for a total over layers of several)
    m: int
    n: int
    k: int
    repeat: int
    macs: int
    folds: int
    compute_cycles: int
    stall_cycles: int
    prefetch_cycles: int
    drain_cycles: int
    pes: int
    used_pe_folds: float  # sum over folds of used PEs / PEs: mapping efficiency x folds
    busy_pe_folds: float  # sum over folds of compute util: compute util x folds
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ofmap_sram_reads: int
    ifmap_dram_read_bytes: int
    filter_dram_read_bytes: int
    ofmap_dram_write_bytes: int
    ofmap_dram_read_bytes: int

    @property
    def total_cycles(self) -> int:
        return self.compute_cycles + self.stall_cycles

    @property
    def total_cycles_with_prefetch(self) -> int:
        return self.total_cycles + self.prefetch_cycles + self.drain_cycles

    @property
    def utilization(self) -> float:
        """MACs per PE per cycle, stalls included."""
        return self.macs / (self.total_cycles * self.pes) if self.total_cycles else 0.0

    @property
    def mapping_efficiency(self) -> float:
        return self.used_pe_folds / self.folds if self.folds else 0.0

    @property
    def compute_util(self) -> float:
        return self.busy_pe_folds / self.folds if self.folds else 0.0

    @property
    def dram_bytes(self) -> int:
        return (self.ifmap_dram_read_bytes + self.filter_dram_read_bytes + self.ofmap_dram_write_bytes
                + self.ofmap_dram_read_bytes)

    @property
    def bound(self) -> str:
        """``memory`` when the layer waited on DRAM, else ``compute``."""
        return "memory" if self.stall_cycles > 0 else "compute"

    def __add__(self, other: "LayerCounts") -> "LayerCounts":
        if self.pes != other.pes:
            raise ValueError("counts of different arrays do not add")
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                  if f.name not in ("layer", "kind", "dataflow", "m", "n", "k", "repeat", "pes")}
        dataflow = self.dataflow if self.dataflow == other.dataflow else ""
        return LayerCounts(layer="total", kind="", dataflow=dataflow, m=0, n=0, k=0, repeat=0, pes=self.pes, **summed)
