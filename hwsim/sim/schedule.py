"""Several DNNs on a heterogeneous accelerator: map layers to sub-accelerators, list-schedule the combined DAG.

Every layer of every network is a task on the sub-accelerator the mapping gives it, lasting its cycles there
(:func:`hwsim.sim.template.template_layer`). The networks' layer graphs together form one DAG; a layer may start when
all its producers have finished and its sub-accelerator is free, and a sub-accelerator runs one layer at a time, to
the end. Among the ready layers of a sub-accelerator the one with the longest remaining path to its network's end
goes first (list scheduling with upward rank, as in HEFT); ties go to the earlier network and layer. Latency is the
makespan.

A value passing between layers on different sub-accelerators goes through DRAM: its bytes are written and read
once more (energy, priced by :func:`hwsim.report.hetero.assemble`), with no extra time (the consumer reads its
inputs through its NoC anyway).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from hwsim.arch.heterogeneous import Heterogeneous
from hwsim.errors import InputError
from hwsim.sim.template import TemplateLayerCounts, template_layer
from hwsim.types import PRECISIONS
from hwsim.workload.network import Network

if TYPE_CHECKING:
    import networkx as nx


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


@dataclass(frozen=True)
class ScheduleCounts:
    """Where and when every layer ran, and what it counted there (no prices).

    Nodes are ``(network, layer)``; ``order`` is each node's ``(network index, layer index)``, the tie-break.
    """

    networks: tuple[str, ...]
    assignment: dict[tuple[str, str], int]
    counts: dict[tuple[str, str], TemplateLayerCounts]
    slots: dict[tuple[str, str], tuple[int, int]]
    order: dict[tuple[str, str], tuple[int, int]]
    handoff_bytes: int

    @property
    def makespan(self) -> int:
        return max((end for _, end in self.slots.values()), default=0)


def schedule_layers(networks: Sequence[Network], design: Heterogeneous, mapping: Mapping[str, int]) -> ScheduleCounts:
    """Run ``networks`` together on ``design``: every layer's sub-accelerator, counts and start and end cycle.

    ``mapping`` maps a network name to a sub-accelerator index; ``"network/layer"`` keys override single layers.
    """
    import networkx as nx  # here, not at the top: a plain systolic run never loads it (start-up time)

    assignment = layer_assignment(networks, design, mapping)
    graph = nx.DiGraph()
    counts, output_bytes = {}, {}
    for rank_net, net in enumerate(networks):
        for position, stats in enumerate(net):
            node = (net.name, stats.name)
            sub = design.subs[assignment[node]]
            counts[node] = template_layer(net, stats, sub)
            output_bytes[node] = math.prod(stats.output_shape) * net.batch * PRECISIONS[sub.precision] // 8
            graph.add_node(node, cycles=counts[node].cycles, order=(rank_net, position))
        for layer in net.layers:
            graph.add_edges_from(((net.name, source), (net.name, layer.name)) for source in layer.inputs
                                 if source not in net.inputs)

    rank: dict[tuple[str, str], int] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        rank[node] = graph.nodes[node]["cycles"] + max((rank[s] for s in graph.successors(node)), default=0)

    slots = _list_schedule(graph, assignment, rank, len(design.subs))
    return ScheduleCounts(
        networks=tuple(n.name for n in networks), assignment=assignment, counts=counts, slots=slots,
        order={node: graph.nodes[node]["order"] for node in graph},
        handoff_bytes=sum(output_bytes[u] for u, v in graph.edges if assignment[u] != assignment[v]),
    )


def _list_schedule(graph: "nx.DiGraph", assignment: Mapping[tuple[str, str], int], rank: Mapping[tuple[str, str], int],
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
