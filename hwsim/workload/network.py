"""A network: named inputs and layers forming a DAG whose shapes chain."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import networkx as nx

from hwsim.errors import InputError
from hwsim.types import Shape
from hwsim.workload.layers import Layer
from hwsim.workload.lowering import GemmDims, lower


@dataclass(frozen=True)
class LayerStats:
    """What the workload alone says about one layer (no hardware yet)."""

    name: str
    kind: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    gemm: GemmDims | None
    macs: int
    params: int


@dataclass(frozen=True)
class Network:
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
        graph = nx.DiGraph()
        graph.add_nodes_from(inputs)
        graph.add_nodes_from(by_name)
        for layer in layers:
            for source in layer.inputs:
                if source not in by_name and source not in inputs:
                    raise InputError(
                        "is neither a layer nor a network input", layer=layer.name, field="inputs", value=source
                    )
                graph.add_edge(source, layer.name)
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            path = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
            raise InputError(f"the layers form a cycle: {path}", field="inputs", layer=cycle[0][1])

        position = {name: i for i, name in enumerate(list(inputs) + list(by_name))}
        order = [n for n in nx.lexicographical_topological_sort(graph, key=position.__getitem__) if n in by_name]
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
        """A fresh DAG of tensors (inputs and layers), edges from producer to consumer."""
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
