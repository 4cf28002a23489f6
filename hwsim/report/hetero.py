"""Results of a multi-DNN run on a heterogeneous accelerator: the schedule, per-sub-accelerator use, specs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hwsim.arch.heterogeneous import Heterogeneous
from hwsim.report.cost import EnergyBreakdown


@dataclass(frozen=True)
class SubAcceleratorArea:
    """Areas in um^2 of one sub-accelerator (hwsim's cost model)."""

    pe_um2: float  # one PE with its L1 and overhead
    array_um2: float  # all PEs with the array's NoC and control
    l2_um2: float

    @property
    def total_um2(self) -> float:
        return self.array_um2 + self.l2_um2

    @property
    def pe_pitch_mm(self) -> float:
        return math.sqrt(self.pe_um2) / 1000


@dataclass(frozen=True)
class ScheduledLayer:
    """One layer's slot in the schedule, with its cost (hwsim's model and MAESTRO's)."""

    network: str
    layer: str
    kind: str
    sub: int
    start: int
    end: int
    macs: int
    energy: EnergyBreakdown
    maestro_energy_mac_units: float
    noc_bytes: int
    spill_bytes: int

    @property
    def cycles(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class SubAcceleratorReport:
    index: int
    label: str
    template: str
    pes: int
    bandwidth_gbps: float
    busy_cycles: int
    macs: int
    energy_pj: float
    area_um2: float
    maestro_area_um2: float
    utilization: float  # MACs / (PEs x makespan)
    busy_fraction: float  # busy cycles / makespan


@dataclass(frozen=True)
class SpecCheck:
    """One spec: the design's value, the limit, and the margin ``(limit - value) / limit`` in percent."""

    name: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    @property
    def margin_pct(self) -> float:
        return 100 * (self.limit - self.value) / self.limit


@dataclass(frozen=True)
class Specs:
    """Design constraints; ``None`` means unconstrained."""

    latency_cycles: float | None = None
    energy_nj: float | None = None
    area_um2: float | None = None

    def __post_init__(self) -> None:
        from hwsim.errors import InputError

        for name in ("latency_cycles", "energy_nj", "area_um2"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise InputError("must be a number > 0", field=f"specs.{name}", value=value)

    def check(self, metrics: dict[str, float]) -> tuple[SpecCheck, ...]:
        return tuple(SpecCheck(name, metrics[name], limit) for name in ("latency_cycles", "energy_nj", "area_um2")
                     if (limit := getattr(self, name)) is not None)


@dataclass(frozen=True)
class HeteroReport:
    """Several networks scheduled on a heterogeneous accelerator.

    Latency is the makespan (cycles at the design's clock), energy the sum over layers plus the idle
    sub-accelerators' leakage and the DRAM hand-offs between sub-accelerators, area the sum of the
    sub-accelerators'. ``cost`` says which model fills ``energy_nj`` and ``area_um2``: ``"hwsim"`` (the technology
    table) or ``"maestro"`` (MAESTRO's coefficients; energy converted at the table's MAC energy). Both models'
    numbers are always kept.
    """

    design: Heterogeneous
    networks: tuple[str, ...]
    layers: tuple[ScheduledLayer, ...]
    subs: tuple[SubAcceleratorReport, ...]
    tech: str
    cost: str
    idle_leakage_pj: float
    handoff_dram_pj: float
    maestro_mac_pj: float  # the price of one MAC that turns MAESTRO's units into pJ

    @property
    def latency_cycles(self) -> int:
        return max((layer.end for layer in self.layers), default=0)

    @property
    def latency_us(self) -> float:
        return self.latency_cycles / self.design.clock_mhz

    @property
    def hwsim_energy_nj(self) -> float:
        return (sum(s.energy_pj for s in self.subs) + self.idle_leakage_pj + self.handoff_dram_pj) / 1e3

    @property
    def maestro_energy_mac_units(self) -> float:
        return sum(layer.maestro_energy_mac_units for layer in self.layers)

    @property
    def energy_nj(self) -> float:
        if self.cost == "maestro":
            return self.maestro_energy_mac_units * self.maestro_mac_pj / 1e3
        return self.hwsim_energy_nj

    @property
    def area_um2(self) -> float:
        if self.cost == "maestro":
            return sum(s.maestro_area_um2 for s in self.subs)
        return sum(s.area_um2 for s in self.subs)

    def network_latency_cycles(self, network: str) -> int:
        return max(layer.end for layer in self.layers if layer.network == network)

    def metrics(self) -> dict[str, float]:
        return {"latency_cycles": self.latency_cycles, "energy_nj": self.energy_nj, "area_um2": self.area_um2}

    def summary(self) -> dict[str, Any]:
        return {
            "Design": self.design.label, "Networks": " + ".join(self.networks), "Cost model": self.cost,
            "Latency cycles": self.latency_cycles, "Latency us": self.latency_us,
            **{f"Latency {n} cycles": self.network_latency_cycles(n) for n in self.networks},
            "Energy nJ": self.energy_nj, "Area um2": self.area_um2, "Area mm2": self.area_um2 / 1e6,
            "hwsim Energy nJ": self.hwsim_energy_nj, "MAESTRO Energy MAC units": self.maestro_energy_mac_units,
            "hwsim Area um2": sum(s.area_um2 for s in self.subs),
            "MAESTRO Area um2": sum(s.maestro_area_um2 for s in self.subs),
        }

    def sub_rows(self) -> list[dict[str, Any]]:
        return [{"Sub": s.index, "Template": s.template, "PEs": s.pes, "Bandwidth GB/s": s.bandwidth_gbps,
                 "Busy Cycles": s.busy_cycles, "MACs": s.macs, "Utilization %": 100 * s.utilization,
                 "Busy %": 100 * s.busy_fraction, "Energy nJ": s.energy_pj / 1e3, "Area um2": s.area_um2,
                 "MAESTRO Area um2": s.maestro_area_um2} for s in self.subs]

    def layer_rows(self) -> list[dict[str, Any]]:
        return [{"Network": x.network, "Layer": x.layer, "Kind": x.kind, "Sub": x.sub, "Start": x.start,
                 "End": x.end, "Cycles": x.cycles, "MACs": x.macs, "Energy pJ": x.energy.total_pj,
                 "MAESTRO Energy MAC units": x.maestro_energy_mac_units, "NoC Bytes": x.noc_bytes,
                 "Spill Bytes": x.spill_bytes} for x in self.layers]
