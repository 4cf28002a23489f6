"""Several DNNs on a heterogeneous accelerator: map layers to sub-accelerators, list-schedule the combined DAG.

Every layer of every network is a task on the sub-accelerator the mapping gives it, lasting its cycles there
(:func:`hwsim.sim.template.template_layer`). The networks' layer graphs together form one DAG; a layer may start when
all its producers have finished and its sub-accelerator is free, and a sub-accelerator runs one layer at a time, to
the end. Among the ready layers of a sub-accelerator the one with the longest remaining path to its network's end
goes first (list scheduling with upward rank, as in HEFT); ties go to the earlier network and layer. Latency is the
makespan.

A value passing between layers on different sub-accelerators goes through DRAM: its bytes are written and read
once more (energy), with no extra time (the consumer reads its inputs through its NoC anyway).
"""

from __future__ import annotations

import heapq
import math
from typing import Mapping, Sequence

import networkx as nx

from hwsim.arch.heterogeneous import Heterogeneous
from hwsim.cost.tech import Technology
from hwsim.io.tech import load_technology
from hwsim.cost.template import maestro_area_um2, maestro_energy_mac_units, template_area, template_energy
from hwsim.errors import InputError
from hwsim.report.hetero import HeteroReport, ScheduledLayer, SubAcceleratorReport
from hwsim.sim.template import template_layer
from hwsim.types import PRECISIONS
from hwsim.workload.network import Network

COST_MODELS = ("hwsim", "maestro")


def layer_assignment(networks: Sequence[Network], design: Heterogeneous,
                     mapping: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """Sub-accelerator of every layer. ``mapping`` maps a network name to a sub-accelerator index, and may send
    single layers elsewhere with ``"network/layer"`` keys."""
    names = [n.name for n in networks]
    if len(set(names)) != len(names):
        raise InputError("networks must have distinct names", field="networks", value=names)
    layers = {n.name: set(n.order) for n in networks}
    for key, index in mapping.items():
        net, _, layer = str(key).partition("/")
        if net not in layers or (layer and layer not in layers[net]):
            raise InputError(f"names no network or layer (networks: {', '.join(names)})", field="mapping", value=key)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(design.subs):
            raise InputError(f"must be a sub-accelerator index from 0 to {len(design.subs) - 1}",
                             field=f"mapping.{key}", value=index)
    assignment = {}
    for net in networks:
        for layer in net.order:
            key = f"{net.name}/{layer}"
            if key in mapping:
                assignment[(net.name, layer)] = mapping[key]
            elif net.name in mapping:
                assignment[(net.name, layer)] = mapping[net.name]
            else:
                raise InputError("is not mapped to a sub-accelerator", field="mapping", value=key)
    return assignment


def schedule(networks: Sequence[Network], design: Heterogeneous, mapping: Mapping[str, int], *,
             tech: Technology | str = "28nm", cost: str = "hwsim") -> HeteroReport:
    """Run ``networks`` together on ``design``: the schedule, latency, energy, area and use of each sub-accelerator.

    Parameters
    ----------
    mapping
        Network name -> sub-accelerator index; ``"network/layer"`` keys override single layers.
    tech
        The technology of hwsim's cost model (NASAIC's numbers are 28 nm).
    cost
        ``"hwsim"`` or ``"maestro"``: which model's energy and area the report's totals use (both are computed).
    """
    if cost not in COST_MODELS:
        raise InputError(f"unknown cost model (known: {', '.join(COST_MODELS)})", field="cost", value=cost)
    technology = load_technology(tech) if isinstance(tech, str) else tech
    assignment = layer_assignment(networks, design, mapping)
    areas = [template_area(s, technology) for s in design.subs]

    graph = nx.DiGraph()
    reports, energies = {}, {}
    for rank_net, net in enumerate(networks):
        for position, stats in enumerate(net):
            node = (net.name, stats.name)
            sub = design.subs[assignment[node]]
            report = template_layer(net, stats, sub)
            reports[node] = (report, math.prod(stats.output_shape) * net.batch * PRECISIONS[sub.precision] // 8)
            energies[node] = template_energy(report, sub, technology, areas[assignment[node]])
            graph.add_node(node, cycles=report.cycles, order=(rank_net, position))
        for layer in net.layers:
            graph.add_edges_from(((net.name, source), (net.name, layer.name)) for source in layer.inputs
                                 if source not in net.inputs)

    rank: dict[tuple[str, str], int] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        rank[node] = graph.nodes[node]["cycles"] + max((rank[s] for s in graph.successors(node)), default=0)

    slots = _list_schedule(graph, assignment, rank, len(design.subs))
    handoff_bytes = sum(reports[u][1] for u, v in graph.edges if assignment[u] != assignment[v])
    makespan = max((end for _, end in slots.values()), default=0)

    layers = []
    for node in sorted(slots, key=lambda n: (slots[n][0], graph.nodes[n]["order"])):
        report, _ = reports[node]
        start, end = slots[node]
        layers.append(ScheduledLayer(
            network=node[0], layer=node[1], kind=report.kind, sub=assignment[node], start=start, end=end,
            macs=report.macs, energy=energies[node], maestro_energy_mac_units=maestro_energy_mac_units(report, technology),
            noc_bytes=report.noc_bytes, spill_bytes=report.spill_bytes,
        ))

    subs, idle_leakage = [], 0.0
    for index, sub in enumerate(design.subs):
        mine = [x for x in layers if x.sub == index]
        busy = sum(x.cycles for x in mine)
        macs = sum(x.macs for x in mine)
        leakage_mw = (technology.sram_leakage_mw(sub.l2_kib + sub.pes * sub.l1_bytes / 1024)
                      + technology.pe_leakage_mw(sub.precision, 0) * sub.pes)
        idle_leakage += leakage_mw * (makespan - busy) / sub.clock_mhz * 1e3
        subs.append(SubAcceleratorReport(
            index=index, label=sub.label, template=sub.template.name, pes=sub.pes, bandwidth_gbps=sub.bandwidth_gbps,
            busy_cycles=busy, macs=macs, energy_pj=sum(x.energy.total_pj for x in mine),
            area_um2=areas[index].total_um2, maestro_area_um2=maestro_area_um2(sub, technology),
            utilization=macs / (sub.pes * makespan) if makespan else 0.0,
            busy_fraction=busy / makespan if makespan else 0.0,
        ))
    return HeteroReport(
        design=design, networks=tuple(n.name for n in networks), layers=tuple(layers), subs=tuple(subs),
        tech=technology.name, cost=cost, idle_leakage_pj=idle_leakage,
        handoff_dram_pj=technology.dram_energy_pj(2 * handoff_bytes),
        maestro_mac_pj=technology.mac_energy_pj(design.subs[0].precision),
    )


def _list_schedule(graph: nx.DiGraph, assignment: Mapping[tuple[str, str], int], rank: Mapping[tuple[str, str], int],
                   subs: int) -> dict[tuple[str, str], tuple[int, int]]:
    """Start and end cycle of every node: non-preemptive list scheduling, one layer at a time per sub-accelerator."""
    waiting = {node: graph.in_degree(node) for node in graph}
    ready: list[list] = [[] for _ in range(subs)]

    def release(node: tuple[str, str]) -> None:
        heapq.heappush(ready[assignment[node]], (-rank[node], graph.nodes[node]["order"], node))

    for node, count in waiting.items():
        if count == 0:
            release(node)
    free_at = [0] * subs
    running: list[tuple[int, tuple, tuple[str, str]]] = []
    slots: dict[tuple[str, str], tuple[int, int]] = {}
    now = 0
    while len(slots) < graph.number_of_nodes():
        for sub in range(subs):
            if free_at[sub] <= now and ready[sub]:
                _, order, node = heapq.heappop(ready[sub])
                end = now + graph.nodes[node]["cycles"]
                slots[node] = (now, end)
                free_at[sub] = end
                heapq.heappush(running, (end, order, node))
        if not running:
            raise RuntimeError("list scheduling stalled: the layer graph has a cycle")  # a Network is a DAG
        now, _, done = heapq.heappop(running)
        finished = [done]
        while running and running[0][0] == now:
            finished.append(heapq.heappop(running)[2])
        for node in finished:
            for succ in graph.successors(node):
                waiting[succ] -= 1
                if waiting[succ] == 0:
                    release(succ)
    return slots
