"""A network: named inputs and layers forming a DAG whose shapes chain."""

from __future__ import annotations

import heapq
import math
from dataclasses import field
from typing import TYPE_CHECKING, Iterator, Mapping

from hwsim.errors import InputError
from hwsim.types import Record, Shape, record
from hwsim.workload.layers import Layer
from hwsim.workload.lowering import GemmDims, lower

if TYPE_CHECKING:
    import networkx as nx


@record
class LayerStats(Record):
    """What the workload alone says about one layer (no hardware yet)."""

    name: str
    kind: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    gemm: GemmDims | None
    macs: int
    params: int


@record
class Network(Record):
    """A DNN workload.

    Parameters
    ----------
    name
        Short identifier, e.g. ``"resnet50"``.
    source
        Where the architecture comes from (paper, reference implementation).
    inputs
        Network input tensors by name, each with its per-sample shape.
    layers
        The layers; each reads network inputs or earlier layers by name. Any order that
        forms a DAG is accepted; :attr:`order` is a topological order (stable w.r.t. the
        given order).
    batch
        Samples per inference.
    datatype_bits
        Bits per activation and weight element.
    """

    name: str
    source: str
    inputs: Mapping[str, Shape]
    layers: tuple[Layer, ...]
    batch: int = 1
    datatype_bits: int = 8
    _stats: Mapping[str, LayerStats] = field(init=False, repr=False, compare=False)
    _order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name:
            raise InputError("must be a non-empty string", field="name", value=self.name)
        for attr, minimum in (("batch", 1), ("datatype_bits", 1)):
            value = getattr(self, attr)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise InputError(f"must be a whole number >= {minimum}", field=attr, value=value)
        inputs = {}
        for key, shape in dict(self.inputs).items():
            if not isinstance(shape, (list, tuple)) or not shape or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape
            ):
                raise InputError("expected a non-empty list of whole numbers >= 1", field=f"inputs.{key}", value=shape)
            inputs[key] = tuple(shape)
        set_(self, "inputs", inputs)
        layers = tuple(self.layers)
        set_(self, "layers", layers)
        if not layers:
            raise InputError("a network needs at least one layer", field="layers", value=[])

        by_name: dict[str, Layer] = {}
        for layer in layers:
            if layer.name in by_name or layer.name in inputs:
                raise InputError("name is used twice", layer=layer.name, field="name", value=layer.name)
            by_name[layer.name] = layer
        # Producer -> consumers, in the order the layers are given; networkx is not needed for this and costs more
        # to import than a whole ``hwsim run`` takes to simulate.
        consumers: dict[str, dict[str, None]] = {name: {} for name in (*inputs, *by_name)}
        for layer in layers:
            for source in layer.inputs:
                if source not in consumers:
                    raise InputError(
                        "is neither a layer nor a network input", layer=layer.name, field="inputs", value=source
                    )
                consumers[source][layer.name] = None
        cycle = _find_cycle(consumers)
        if cycle:
            raise InputError(f"the layers form a cycle: {' -> '.join(cycle)}", field="inputs", layer=cycle[1])

        order = [n for n in _topological_order(consumers) if n in by_name]
        shapes: dict[str, Shape] = dict(inputs)
        stats: dict[str, LayerStats] = {}
        for name in order:
            layer = by_name[name]
            in_shapes = tuple(shapes[s] for s in layer.inputs)
            try:
                out = tuple(int(d) for d in layer.output_shape(in_shapes))
                gemm = lower(layer, in_shapes, self.batch)
                params = layer.params(in_shapes)
            except InputError as err:
                raise err.located(layer=name) from None
            shapes[name] = out
            stats[name] = LayerStats(
                name=name, kind=layer.kind, input_shapes=in_shapes, output_shape=out, gemm=gemm,
                macs=gemm.macs if gemm else 0, params=params,
            )
        set_(self, "_stats", stats)
        set_(self, "_order", tuple(order))

    def __hash__(self) -> int:
        return hash((self.name, self.layers, self.batch, self.datatype_bits, tuple(self.inputs.items())))

    # -- queries -----------------------------------------------------------------------------

    @property
    def order(self) -> tuple[str, ...]:
        """Layer names in a topological order."""
        return self._order

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def stats(self, name: str) -> LayerStats:
        return self._stats[name]

    def __iter__(self) -> Iterator[LayerStats]:
        """Per-layer statistics in topological order."""
        return (self._stats[name] for name in self._order)

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self._stats.values())

    @property
    def params(self) -> int:
        return sum(s.params for s in self._stats.values())

    def graph(self) -> nx.DiGraph:
        """A fresh DAG of tensors (inputs and layers), edges from producer to consumer.

        Fresh on every call, so a caller may annotate or change it; networkx is imported here, on first use.
        """
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self.inputs, kind="input")
        for layer in self.layers:
            graph.add_node(layer.name, kind=layer.kind)
            graph.add_edges_from((source, layer.name) for source in layer.inputs)
        return graph

    def outputs(self) -> tuple[str, ...]:
        """Layers nobody reads: the network's results."""
        read = {s for layer in self.layers for s in layer.inputs}
        return tuple(name for name in self._order if name not in read)

    def input_elements(self) -> int:
        return sum(math.prod(s) for s in self.inputs.values())


def _find_cycle(consumers: Mapping[str, Mapping[str, None]]) -> list[str] | None:
    """The first cycle a depth-first search meets, as ``[a, b, ..., a]``, or None for a DAG.

    Nodes are started in the mapping's order and followed in each node's consumer order, the search
    ``networkx.find_cycle`` makes, so the cycle an error names is the one it would name.
    """
    done: set[str] = set()
    for start in consumers:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(consumers[start])]
        while pending:
            node = next(pending[-1], None)
            if node is None:
                pending.pop()
                finished = path.pop()
                on_path.remove(finished)
                done.add(finished)
                continue
            if node in on_path:
                return path[path.index(node):] + [node]
            if node not in done:
                path.append(node)
                on_path.add(node)
                pending.append(iter(consumers[node]))
    return None


def _topological_order(consumers: Mapping[str, Mapping[str, None]]) -> list[str]:
    """Kahn's algorithm taking, among the nodes ready, the one given first: the order
    ``networkx.lexicographical_topological_sort`` gives with the nodes' positions as keys."""
    position = {name: i for i, name in enumerate(consumers)}
    waiting = dict.fromkeys(consumers, 0)
    for targets in consumers.values():
        for target in targets:
            waiting[target] += 1
    ready = [position[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(consumers)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for target in consumers[name]:
            waiting[target] -= 1
            if not waiting[target]:
                heapq.heappush(ready, position[target])
    return order
