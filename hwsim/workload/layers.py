"""Layer descriptions: one frozen dataclass per layer kind.

A layer knows its own hyper-parameters and the names of the tensors it reads; it does not
know its input shapes. Shapes are resolved by :class:`hwsim.workload.network.Network`,
which calls :meth:`Layer.output_shape` in topological order.

Tensor shapes are per sample, channels first: feature maps are ``(C, H, W)``, token
sequences are ``(S, F)`` (sequence, features), index tensors are ``(S,)``. The batch size
belongs to the network.

Compute kinds (``conv2d``, ``conv_transpose2d``, ``gemm``, ``fc``, ``matmul``) lower to GEMMs
(see :mod:`hwsim.workload.lowering`). Memory kinds (``pool``, ``eltwise``, ``concat``,
``upsample``, ``embedding``, ``parameter``, ``reshape``, ``slice``) cost memory traffic, never MACs.

Batch normalisation after a convolution and the activation that follows are written as
``batchnorm``/``activation`` fields of the weight layer: accelerators fold BN into the
weights and apply the activation on the way out, so neither is a pass of its own. A BN that
cannot fold (DenseNet's pre-activation BN) is an ``eltwise`` layer with ``op: batchnorm``.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import ClassVar, Sequence

import numpy as np

from hwsim.errors import InputError
from hwsim.types import Record, Shape, record
from hwsim.workload.sparsity import NMSparsity

ACTIVATIONS = ("relu", "relu6", "elu", "gelu", "sigmoid", "hardsigmoid", "hardswish", "tanh", "silu")
"""Point-wise functions applied on a value's way out of a layer (no MACs, no traffic)."""

ELTWISE_OPS = ("add", "mul", "softmax", "layernorm", "batchnorm") + ACTIVATIONS
"""Operations of an ``eltwise`` layer; they read their inputs and write one output."""


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_int(layer: str, name: str, value: object, minimum: int) -> int:
    if not _is_int(value) or value < minimum:
        raise InputError(f"must be a whole number >= {minimum}", layer=layer, field=name, value=value)
    return int(value)


def _pair(layer: str, name: str, value: object, minimum: int) -> tuple[int, int]:
    """An ``int`` or ``[h, w]``, as ``(h, w)``."""
    items = [value, value] if _is_int(value) else value
    if not isinstance(items, (list, tuple)) or len(items) != 2:
        raise InputError("expected a whole number or [height, width]", layer=layer, field=name, value=value)
    for item in items:
        if not _is_int(item) or item < minimum:
            raise InputError(f"every entry must be a whole number >= {minimum}", layer=layer, field=name, value=value)
    return int(items[0]), int(items[1])


def _padding4(layer: str, value: object) -> tuple[int, int, int, int]:
    """``p``, ``[ph, pw]`` or ``[top, bottom, left, right]``, as the four-tuple."""
    if _is_int(value):
        items = [value] * 4
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        items = [value[0], value[0], value[1], value[1]]
    elif isinstance(value, (list, tuple)) and len(value) == 4:
        items = list(value)
    else:
        raise InputError(
            "expected p, [height, width] or [top, bottom, left, right]", layer=layer, field="padding", value=value
        )
    if not all(_is_int(p) and p >= 0 for p in items):
        raise InputError("every entry must be a whole number >= 0", layer=layer, field="padding", value=value)
    return tuple(int(p) for p in items)  # type: ignore[return-value]


def _shape_error(layer: "Layer", problem: str, value: object, name: str = "inputs") -> InputError:
    return InputError(problem, layer=layer.name, field=name, value=value)


def _feature_map(layer: "Layer", shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise _shape_error(layer, "expects a (C, H, W) feature map", list(shape))
    return shape  # type: ignore[return-value]


def _window_out(size: int, kernel: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False) -> int:
    span = size + pad - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    return (-(-span // stride) if ceil else span // stride) + 1


@record(kw_only=True)
class Layer(Record):
    """What every layer has: a unique name and the tensors it reads (layer or input names)."""

    kind: ClassVar[str]
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    computes: ClassVar[bool] = False

    name: str
    inputs: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError("must be a non-empty string", field="name", value=self.name)
        inputs = self.inputs
        if isinstance(inputs, str) or not isinstance(inputs, (list, tuple)):
            raise InputError("expected a list of tensor names", layer=self.name, field="inputs", value=inputs)
        if not all(isinstance(i, str) and i for i in inputs):
            raise InputError("every entry must be a non-empty name", layer=self.name, field="inputs", value=inputs)
        object.__setattr__(self, "inputs", tuple(inputs))
        low, high = self.arity
        if len(inputs) < low or (high is not None and len(inputs) > high):
            want = f"exactly {low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
            raise InputError(
                f"a {self.kind} layer reads {want} input(s)", layer=self.name, field="inputs", value=list(inputs)
            )

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        """Shape of the output for one sample; raises :class:`InputError` if the inputs do not fit."""
        raise NotImplementedError

    def params(self, input_shapes: Sequence[Shape]) -> int:
        """Learned parameters (weights, biases, folded-BN scale and shift)."""
        return 0

    def spec(self) -> dict[str, object]:
        """The fields that differ from their defaults, as plain JSON values (``kind`` first)."""
        out: dict[str, object] = {"name": self.name, "kind": self.kind, "inputs": list(self.inputs)}
        shared = {f.name for f in fields(WeightLayer)}
        for f in sorted(fields(self), key=lambda f: f.name in shared):
            if f.name in ("name", "inputs"):
                continue
            value = getattr(self, f.name)
            if value == f.default:
                continue
            out[f.name] = str(value) if isinstance(value, NMSparsity) else list(value) if isinstance(value, tuple) else value
        return out


@record(kw_only=True)
class WeightLayer(Layer):
    """A layer with a weight tensor: it lowers to a GEMM whose stationary candidate is the weight."""

    computes: ClassVar[bool] = True

    bias: bool = False
    batchnorm: bool = False
    activation: str | None = None
    sparsity: NMSparsity | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for flag in ("bias", "batchnorm"):
            if not isinstance(getattr(self, flag), bool):
                raise InputError("expected true or false", layer=self.name, field=flag, value=getattr(self, flag))
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise InputError(
                f"unknown activation (known: {', '.join(ACTIVATIONS)})",
                layer=self.name,
                field="activation",
                value=self.activation,
            )
        if self.sparsity is not None:
            try:
                object.__setattr__(self, "sparsity", NMSparsity.parse(self.sparsity))
            except InputError as err:
                raise err.located(layer=self.name) from None

    def _extra_params(self, out_features: int) -> int:
        return out_features * (int(self.bias) + 2 * int(self.batchnorm))


@record(kw_only=True)
class _Convolution(WeightLayer):
    """What a convolution and a transposed convolution share."""

    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        set_ = object.__setattr__
        set_(self, "out_channels", _check_int(self.name, "out_channels", self.out_channels, 1))
        set_(self, "kernel", _pair(self.name, "kernel", self.kernel, 1))
        set_(self, "stride", _pair(self.name, "stride", self.stride, 1))
        set_(self, "dilation", _pair(self.name, "dilation", self.dilation, 1))
        set_(self, "groups", _check_int(self.name, "groups", self.groups, 1))
        if self.out_channels % self.groups:
            raise InputError(
                f"must be a multiple of groups ({self.groups})", layer=self.name, field="out_channels",
                value=self.out_channels,
            )

    def _input(self, input_shapes: Sequence[Shape]) -> tuple[int, int, int]:
        c, h, w = _feature_map(self, input_shapes[0])
        if c % self.groups:
            raise _shape_error(self, f"input channels {c} are not a multiple of groups", self.groups, "groups")
        return c, h, w

    def params(self, input_shapes: Sequence[Shape]) -> int:
        c = input_shapes[0][0]
        kh, kw = self.kernel
        return kh * kw * (c // self.groups) * self.out_channels + self._extra_params(self.out_channels)


@record(kw_only=True)
class Conv2d(_Convolution):
    """2-D convolution. Depthwise is ``groups == in_channels``."""

    kind: ClassVar[str] = "conv2d"

    padding: tuple[int, int, int, int] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "padding", _padding4(self.name, self.padding))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        _, h, w = self._input(input_shapes)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        top, bottom, left, right = self.padding
        ho = _window_out(h, kh, sh, top + bottom, dh)
        wo = _window_out(w, kw, sw, left + right, dw)
        if ho < 1 or wo < 1:
            raise _shape_error(
                self, f"kernel does not fit the padded {h}x{w} input", list(self.kernel), "kernel"
            )
        return (self.out_channels, ho, wo)


@record(kw_only=True)
class ConvTranspose2d(_Convolution):
    """2-D transposed convolution (U-Net's up-convolution), PyTorch's size convention."""

    kind: ClassVar[str] = "conv_transpose2d"

    padding: tuple[int, int] = (0, 0)
    output_padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "padding", _pair(self.name, "padding", self.padding, 0))
        object.__setattr__(self, "output_padding", _pair(self.name, "output_padding", self.output_padding, 0))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        _, h, w = self._input(input_shapes)
        dims = []
        for size, k, s, p, op, d in zip((h, w), self.kernel, self.stride, self.padding, self.output_padding, self.dilation):
            dims.append((size - 1) * s - 2 * p + d * (k - 1) + op + 1)
        if min(dims) < 1:
            raise _shape_error(self, f"padding leaves no output from the {h}x{w} input", list(self.padding), "padding")
        return (self.out_channels, dims[0], dims[1])


@record(kw_only=True)
class _Linear(WeightLayer):
    """What the two linear layers share."""

    out_features: int

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "out_features", _check_int(self.name, "out_features", self.out_features, 1))


@record(kw_only=True)
class Gemm(_Linear):
    """A linear layer on the last dimension; every leading position is a row (transformers)."""

    kind: ClassVar[str] = "gemm"

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return tuple(input_shapes[0][:-1]) + (self.out_features,)

    def params(self, input_shapes: Sequence[Shape]) -> int:
        return input_shapes[0][-1] * self.out_features + self._extra_params(self.out_features)


@record(kw_only=True)
class FullyConnected(_Linear):
    """A linear layer on the whole flattened input (classifier heads)."""

    kind: ClassVar[str] = "fc"

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return (self.out_features,)

    def params(self, input_shapes: Sequence[Shape]) -> int:
        return math.prod(input_shapes[0]) * self.out_features + self._extra_params(self.out_features)


@record(kw_only=True)
class MatMul(Layer):
    """Product of two activations, ``A @ B`` (attention scores ``Q Kᵀ`` and context ``P V``).

    With ``heads = h``, a rank-2 ``(S, F)`` input is split into ``h`` heads of ``(S, F / h)``;
    a rank-3 input must already be ``(h, rows, cols)``. The output is ``(h, M, N)``, or
    ``(M, h * N)`` with ``merge_heads``, or plain ``(M, N)`` for one head of rank-2 inputs.
    """

    kind: ClassVar[str] = "matmul"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)
    computes: ClassVar[bool] = True

    heads: int = 1
    transpose_b: bool = False
    merge_heads: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "heads", _check_int(self.name, "heads", self.heads, 1))
        for flag in ("transpose_b", "merge_heads"):
            if not isinstance(getattr(self, flag), bool):
                raise InputError("expected true or false", layer=self.name, field=flag, value=getattr(self, flag))

    def per_head(self, input_shapes: Sequence[Shape]) -> tuple[int, int, int]:
        """``(M, N, K)`` of one head's product."""
        a = self._split(input_shapes[0], "A")
        b = self._split(input_shapes[1], "B")
        if self.transpose_b:
            b = (b[1], b[0])
        if a[1] != b[0]:
            raise _shape_error(
                self, f"inner dimensions differ: A is {a[0]}x{a[1]}, B is {b[0]}x{b[1]} per head",
                [list(s) for s in input_shapes],
            )
        return a[0], b[1], a[1]

    def _split(self, shape: Shape, which: str) -> tuple[int, int]:
        if len(shape) == 2:
            rows, cols = shape
            if cols % self.heads:
                raise _shape_error(self, f"{which}'s {cols} features do not split into {self.heads} heads", list(shape))
            return rows, cols // self.heads
        if len(shape) == 3 and shape[0] == self.heads:
            return shape[1], shape[2]
        raise _shape_error(self, f"{which} must be (S, F) or (heads={self.heads}, rows, cols)", list(shape))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        m, n, _ = self.per_head(input_shapes)
        if self.merge_heads:
            return (m, self.heads * n)
        if self.heads == 1 and all(len(s) == 2 for s in input_shapes):
            return (m, n)
        return (self.heads, m, n)


@record(kw_only=True)
class Pool(Layer):
    """Max or average pooling; ``global_pool`` reduces each channel to one value."""

    kind: ClassVar[str] = "pool"

    mode: str
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    ceil_mode: bool = False
    global_pool: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in ("max", "avg"):
            raise InputError("expected 'max' or 'avg'", layer=self.name, field="mode", value=self.mode)
        if not isinstance(self.global_pool, bool) or not isinstance(self.ceil_mode, bool):
            raise InputError("expected true or false", layer=self.name, field="global_pool/ceil_mode",
                             value=[self.global_pool, self.ceil_mode])
        if self.global_pool:
            if self.kernel is not None or self.stride is not None:
                raise InputError("a global pool takes no kernel or stride", layer=self.name, field="kernel",
                                 value=self.kernel)
            return
        if self.kernel is None:
            raise InputError("required unless global_pool is true", layer=self.name, field="kernel", value=None)
        set_ = object.__setattr__
        set_(self, "kernel", _pair(self.name, "kernel", self.kernel, 1))
        # A pool's stride defaults to its kernel (non-overlapping windows), as in every framework.
        set_(self, "stride", _pair(self.name, "stride", self.kernel if self.stride is None else self.stride, 1))
        set_(self, "padding", _padding4(self.name, self.padding))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        c, h, w = _feature_map(self, input_shapes[0])
        if self.global_pool:
            return (c, 1, 1)
        (kh, kw), (sh, sw) = self.kernel, self.stride  # type: ignore[misc]
        top, bottom, left, right = self.padding
        ho = _window_out(h, kh, sh, top + bottom, ceil=self.ceil_mode)
        wo = _window_out(w, kw, sw, left + right, ceil=self.ceil_mode)
        if ho < 1 or wo < 1:
            raise _shape_error(self, f"kernel does not fit the {h}x{w} input", list(self.kernel), "kernel")
        return (c, ho, wo)

    def spec(self) -> dict[str, object]:
        out = super().spec()
        if not self.global_pool and out.get("stride") == out.get("kernel"):
            out.pop("stride", None)
        return out


@record(kw_only=True)
class Eltwise(Layer):
    """Element-wise operation; several inputs broadcast against each other as in NumPy.

    ``activation`` is applied on the way out, as for weight layers (ResNet's add + ReLU).

    ``layernorm`` normalises (and has a scale and shift for) the last dimension, ``batchnorm``
    the first (channels).
    """

    kind: ClassVar[str] = "eltwise"
    arity: ClassVar[tuple[int, int | None]] = (1, None)

    op: str
    activation: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in ELTWISE_OPS:
            raise InputError(f"unknown op (known: {', '.join(ELTWISE_OPS)})", layer=self.name, field="op", value=self.op)
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise InputError(
                f"unknown activation (known: {', '.join(ACTIVATIONS)})",
                layer=self.name, field="activation", value=self.activation,
            )
        if self.op in ("add", "mul") and len(self.inputs) < 2:
            raise InputError(f"'{self.op}' reads at least 2 inputs", layer=self.name, field="inputs",
                             value=list(self.inputs))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        try:
            return tuple(int(d) for d in np.broadcast_shapes(*input_shapes))
        except ValueError:
            raise _shape_error(self, "input shapes do not broadcast", [list(s) for s in input_shapes]) from None

    def params(self, input_shapes: Sequence[Shape]) -> int:
        if self.op == "layernorm":
            return 2 * input_shapes[0][-1]
        if self.op == "batchnorm":
            return 2 * input_shapes[0][0]
        return 0


@record(kw_only=True)
class Concat(Layer):
    """Concatenation along ``axis``; with ``crop`` the other dimensions are centre-cropped to the
    smallest input first (the original U-Net's copy-and-crop)."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[tuple[int, int | None]] = (2, None)

    axis: int = 0
    crop: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "axis", _check_int(self.name, "axis", self.axis, 0))
        if not isinstance(self.crop, bool):
            raise InputError("expected true or false", layer=self.name, field="crop", value=self.crop)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        ranks = {len(s) for s in input_shapes}
        if len(ranks) != 1 or self.axis >= min(ranks):
            raise _shape_error(self, f"inputs must share one rank greater than axis {self.axis}",
                               [list(s) for s in input_shapes])
        rank = ranks.pop()
        out = []
        for dim in range(rank):
            sizes = [s[dim] for s in input_shapes]
            if dim == self.axis:
                out.append(sum(sizes))
            elif self.crop:
                out.append(min(sizes))
            elif len(set(sizes)) != 1:
                raise _shape_error(self, f"inputs differ in dimension {dim} (set crop to centre-crop)",
                                   [list(s) for s in input_shapes])
            else:
                out.append(sizes[0])
        return tuple(out)


@record(kw_only=True)
class Upsample(Layer):
    """Nearest or bilinear up-sampling of a feature map by an integer factor."""

    kind: ClassVar[str] = "upsample"

    scale: tuple[int, int]
    mode: str = "nearest"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "scale", _pair(self.name, "scale", self.scale, 1))
        if self.mode not in ("nearest", "bilinear"):
            raise InputError("expected 'nearest' or 'bilinear'", layer=self.name, field="mode", value=self.mode)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        c, h, w = _feature_map(self, input_shapes[0])
        return (c, h * self.scale[0], w * self.scale[1])


@record(kw_only=True)
class Embedding(Layer):
    """Table look-up: an ``(S,)`` index tensor becomes ``(S, embedding_dim)``."""

    kind: ClassVar[str] = "embedding"

    num_embeddings: int
    embedding_dim: int

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "num_embeddings", _check_int(self.name, "num_embeddings", self.num_embeddings, 1))
        object.__setattr__(self, "embedding_dim", _check_int(self.name, "embedding_dim", self.embedding_dim, 1))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        if len(input_shapes[0]) != 1:
            raise _shape_error(self, "expects an (S,) index tensor", list(input_shapes[0]))
        return (input_shapes[0][0], self.embedding_dim)

    def params(self, input_shapes: Sequence[Shape]) -> int:
        return self.num_embeddings * self.embedding_dim


@record(kw_only=True)
class Parameter(Layer):
    """A learned tensor read from memory (ViT's class token and position embedding)."""

    kind: ClassVar[str] = "parameter"
    arity: ClassVar[tuple[int, int | None]] = (0, 0)

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "shape", _shape_field(self.name, self.shape))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.shape

    def params(self, input_shapes: Sequence[Shape]) -> int:
        return math.prod(self.shape)


@record(kw_only=True)
class Reshape(Layer):
    """Reinterpret a tensor with the same element count, including a change of layout such as
    ViT's patches-to-tokens ``(768, 14, 14) -> (196, 768)``."""

    kind: ClassVar[str] = "reshape"

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "shape", _shape_field(self.name, self.shape))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        if math.prod(input_shapes[0]) != math.prod(self.shape):
            raise _shape_error(
                self, f"element count differs from the input {list(input_shapes[0])}", list(self.shape), "shape"
            )
        return self.shape


@record(kw_only=True)
class Slice(Layer):
    """Rows ``start:stop`` along ``axis`` (a transformer head reading only the class token)."""

    kind: ClassVar[str] = "slice"

    axis: int
    start: int
    stop: int

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, minimum in (("axis", 0), ("start", 0), ("stop", 1)):
            object.__setattr__(self, name, _check_int(self.name, name, getattr(self, name), minimum))
        if self.stop <= self.start:
            raise InputError(f"must be greater than start ({self.start})", layer=self.name, field="stop",
                             value=self.stop)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        shape = input_shapes[0]
        if self.axis >= len(shape) or self.stop > shape[self.axis]:
            raise _shape_error(self, f"slice {self.start}:{self.stop} on axis {self.axis} does not fit the input",
                               list(shape))
        return shape[: self.axis] + (self.stop - self.start,) + shape[self.axis + 1 :]


def _shape_field(layer: str, value: object) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not value or not all(_is_int(d) and d >= 1 for d in value):
        raise InputError("expected a non-empty list of whole numbers >= 1", layer=layer, field="shape", value=value)
    return tuple(int(d) for d in value)


LAYER_KINDS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        Conv2d, ConvTranspose2d, Gemm, FullyConnected, MatMul,
        Pool, Eltwise, Concat, Upsample, Embedding, Parameter, Reshape, Slice,
    )
}
"""Every layer kind by its JSON name."""
