"""Results of a multi-DNN run on a heterogeneous accelerator: the schedule, per-sub-accelerator use, specs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hwsim.arch.heterogeneous import Heterogeneous, SpecCheck, Specs
from hwsim.cost import EnergyBreakdown, Technology
from hwsim.cost.template import maestro_area_um2, maestro_energy_mac_units, template_area, template_energy
from hwsim.errors import InputError
from hwsim.sim.schedule import ScheduleCounts

COST_MODELS = ("hwsim", "maestro")


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


def check_cost_model(cost: str) -> None:
    """Raise unless ``cost`` names a cost model (:data:`COST_MODELS`)."""
    if cost not in COST_MODELS:
        raise InputError(f"unknown cost model (known: {', '.join(COST_MODELS)})", field="cost", value=cost)


def assemble(design: Heterogeneous, sched: ScheduleCounts, tech: Technology, cost: str = "hwsim") -> HeteroReport:
    """The report of a schedule on ``design``, priced with ``tech`` (hwsim's model) and MAESTRO's.

    ``cost`` (``"hwsim"`` or ``"maestro"``) says which model's energy and area the report's totals use; both are
    always computed. Idle sub-accelerators leak until the makespan; values handed between sub-accelerators are
    written to DRAM and read back.
    """
    check_cost_model(cost)
    areas = [template_area(s, tech) for s in design.subs]
    makespan = sched.makespan
    layers = []
    for node in sorted(sched.slots, key=lambda n: (sched.slots[n][0], sched.order[n])):
        counts, index = sched.counts[node], sched.assignment[node]
        start, end = sched.slots[node]
        layers.append(ScheduledLayer(
            network=node[0], layer=node[1], kind=counts.kind, sub=index, start=start, end=end, macs=counts.macs,
            energy=template_energy(counts, design.subs[index], tech, areas[index]),
            maestro_energy_mac_units=maestro_energy_mac_units(counts, tech), noc_bytes=counts.noc_bytes,
            spill_bytes=counts.spill_bytes,
        ))

    subs, idle_leakage = [], 0.0
    for index, sub in enumerate(design.subs):
        mine = [x for x in layers if x.sub == index]
        busy = sum(x.cycles for x in mine)
        macs = sum(x.macs for x in mine)
        leakage_mw = (tech.sram_leakage_mw(sub.l2_kib + sub.pes * sub.l1_bytes / 1024)
                      + tech.pe_leakage_mw(sub.precision, 0) * sub.pes)
        idle_leakage += leakage_mw * (makespan - busy) / sub.clock_mhz * 1e3
        subs.append(SubAcceleratorReport(
            index=index, label=sub.label, template=sub.template.name, pes=sub.pes, bandwidth_gbps=sub.bandwidth_gbps,
            busy_cycles=busy, macs=macs, energy_pj=sum(x.energy.total_pj for x in mine),
            area_um2=areas[index].total_um2, maestro_area_um2=maestro_area_um2(sub, tech),
            utilization=macs / (sub.pes * makespan) if makespan else 0.0,
            busy_fraction=busy / makespan if makespan else 0.0,
        ))
    return HeteroReport(
        design=design, networks=sched.networks, layers=tuple(layers), subs=tuple(subs), tech=tech.name, cost=cost,
        idle_leakage_pj=idle_leakage, handoff_dram_pj=tech.dram_energy_pj(2 * sched.handoff_bytes),
        maestro_mac_pj=tech.mac_energy_pj(design.subs[0].precision),
    )
