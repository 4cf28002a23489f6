"""A small fluent way to write networks in Python (used by the zoo and by notebooks).

Each method adds one layer and returns its name, so code reads like the network::

    b = NetworkBuilder("tiny", source="example", inputs={"image": (3, 32, 32)})
    x = b.conv("conv1", "image", 16, 3, padding=1, batchnorm=True, activation="relu")
    x = b.pool("pool1", x, "max", 2)
    b.fc("fc", x, 10, bias=True)
    net = b.build()

Shapes are inferred as layers are added (:meth:`NetworkBuilder.shape`), so a builder can
size a layer from its input, as DenseNet's growing concatenations need.
"""

from __future__ import annotations

from typing import Sequence

from hwsim.errors import InputError
from hwsim.types import Shape
from hwsim.workload import layers as L
from hwsim.workload.network import Network


class NetworkBuilder:
    def __init__(
        self, name: str, *, source: str, inputs: dict[str, Shape], batch: int = 1, datatype_bits: int = 8
    ) -> None:
        self.name = name
        self.source = source
        self.inputs = {k: tuple(v) for k, v in inputs.items()}
        self.batch = batch
        self.datatype_bits = datatype_bits
        self._layers: list[L.Layer] = []
        self._shapes: dict[str, Shape] = dict(self.inputs)

    def shape(self, name: str) -> Shape:
        return self._shapes[name]

    def add(self, layer: L.Layer) -> str:
        """Add any layer; returns its name."""
        if layer.name in self._shapes:
            raise InputError("name is used twice", layer=layer.name, field="name", value=layer.name)
        try:
            in_shapes = [self._shapes[s] for s in layer.inputs]
        except KeyError as err:
            raise InputError("is not defined yet", layer=layer.name, field="inputs", value=err.args[0]) from None
        self._shapes[layer.name] = tuple(layer.output_shape(in_shapes))
        self._layers.append(layer)
        return layer.name

    # -- compute layers ----------------------------------------------------------------------

    def conv(self, name: str, x: str, out_channels: int, kernel: int | tuple[int, int], **kw: object) -> str:
        return self.add(L.Conv2d(name=name, inputs=(x,), out_channels=out_channels, kernel=kernel, **kw))

    def depthwise(self, name: str, x: str, kernel: int, **kw: object) -> str:
        channels = self.shape(x)[0]
        return self.conv(name, x, channels, kernel, groups=channels, **kw)

    def conv_transpose(self, name: str, x: str, out_channels: int, kernel: int | tuple[int, int], **kw: object) -> str:
        return self.add(L.ConvTranspose2d(name=name, inputs=(x,), out_channels=out_channels, kernel=kernel, **kw))

    def gemm(self, name: str, x: str, out_features: int, **kw: object) -> str:
        return self.add(L.Gemm(name=name, inputs=(x,), out_features=out_features, **kw))

    def fc(self, name: str, x: str, out_features: int, **kw: object) -> str:
        return self.add(L.FullyConnected(name=name, inputs=(x,), out_features=out_features, **kw))

    def matmul(self, name: str, a: str, b: str, **kw: object) -> str:
        return self.add(L.MatMul(name=name, inputs=(a, b), **kw))

    # -- memory layers -----------------------------------------------------------------------

    def pool(self, name: str, x: str, mode: str, kernel: int, **kw: object) -> str:
        return self.add(L.Pool(name=name, inputs=(x,), mode=mode, kernel=kernel, **kw))

    def global_pool(self, name: str, x: str, mode: str = "avg") -> str:
        return self.add(L.Pool(name=name, inputs=(x,), mode=mode, global_pool=True))

    def eltwise(self, name: str, xs: str | Sequence[str], op: str, activation: str | None = None) -> str:
        xs = (xs,) if isinstance(xs, str) else tuple(xs)
        return self.add(L.Eltwise(name=name, inputs=xs, op=op, activation=activation))

    def concat(self, name: str, xs: Sequence[str], **kw: object) -> str:
        return self.add(L.Concat(name=name, inputs=tuple(xs), **kw))

    def upsample(self, name: str, x: str, scale: int, **kw: object) -> str:
        return self.add(L.Upsample(name=name, inputs=(x,), scale=scale, **kw))

    def embedding(self, name: str, x: str, num_embeddings: int, embedding_dim: int) -> str:
        return self.add(L.Embedding(name=name, inputs=(x,), num_embeddings=num_embeddings, embedding_dim=embedding_dim))

    def parameter(self, name: str, shape: Shape) -> str:
        return self.add(L.Parameter(name=name, inputs=(), shape=shape))

    def reshape(self, name: str, x: str, shape: Shape) -> str:
        return self.add(L.Reshape(name=name, inputs=(x,), shape=shape))

    def slice(self, name: str, x: str, axis: int, start: int, stop: int) -> str:
        return self.add(L.Slice(name=name, inputs=(x,), axis=axis, start=start, stop=stop))

    def build(self) -> Network:
        return Network(
            name=self.name, source=self.source, inputs=self.inputs, layers=tuple(self._layers),
            batch=self.batch, datatype_bits=self.datatype_bits,
        )
