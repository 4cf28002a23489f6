"""Import of ONNX models (the optional ``onnx`` extra).

Supported operators: Conv, ConvTranspose, Gemm, MatMul, MaxPool, AveragePool,
GlobalAveragePool, GlobalMaxPool, Add, Mul, BatchNormalization, Relu, Sigmoid, Tanh, Softmax,
Concat, Flatten, Reshape, Transpose (the last three as ``reshape``: a layout change). Shapes come from ONNX shape inference; the first dimension of every
tensor is the batch, which becomes the network's ``batch``.

What is folded, as accelerators do: a BatchNormalization right after a Conv or Gemm that has
no other reader becomes that layer's ``batchnorm``; a Relu/Sigmoid/Tanh whose producer is a
weight layer (or an Add/Mul) with no other reader becomes the producer's ``activation``; an
Add of a constant to a MatMul's output becomes that layer's bias. Anything else is a layer of
its own; an operator not listed is an error naming the node.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.workload import layers as L
from hwsim.workload.network import Network

_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


def read_onnx(path: str | Path) -> Network:
    """Load an ONNX file as a :class:`Network`."""
    try:
        import onnx
    except ImportError:
        raise InputError("ONNX import needs the 'onnx' extra: pip install 'hwsim[onnx]'", file=str(path)) from None
    try:
        model = onnx.load(str(path))
    except Exception as err:  # onnx raises protobuf's DecodeError, among others, for a corrupt file
        raise InputError(f"cannot read as ONNX: {err}", file=str(path)) from None
    try:
        return network_from_onnx(model, name=Path(path).stem)
    except InputError as err:
        raise err.located(file=str(path)) from None


def network_from_onnx(model: Any, *, name: str) -> Network:
    """Convert an in-memory ``onnx.ModelProto``."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = shape_inference.infer_shapes(model)
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    shapes: dict[str, tuple[int, ...]] = {}
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = tuple(d.dim_value if d.HasField("dim_value") else 0 for d in dims)

    inputs: dict[str, tuple[int, ...]] = {}
    batch = None
    for value in graph.input:
        if value.name in constants:
            continue
        shape = shapes[value.name]
        if len(shape) < 2 or 0 in shape[1:]:
            raise InputError("needs a static shape with a leading batch dimension", field=f"input {value.name}",
                             value=list(shape))
        inputs[_clean(value.name)] = shape[1:]
        batch = batch if batch is not None else (shape[0] or 1)

    readers: dict[str, int] = {}
    for node in graph.node:
        for i in node.input:
            readers[i] = readers.get(i, 0) + 1
    layers: dict[str, L.Layer] = {}
    renamed: dict[str, str] = {}  # tensor -> the layer whose output it is, after folding

    def source(tensor: str, node: Any) -> str:
        if tensor in renamed:
            return renamed[tensor]
        if _clean(tensor) in inputs:
            return _clean(tensor)
        if tensor in constants:
            parameter = _clean(tensor)
            if parameter not in layers:
                shape = tuple(int(d) for d in constants[tensor].shape) or (1,)
                # A constant written with the batch axis (1, C, 1, 1) broadcasts per sample as (C, 1, 1).
                if len(shape) == len(shapes.get(node.output[0], ())) and shape[0] == 1 and len(shape) > 1:
                    shape = shape[1:]
                layers[parameter] = L.Parameter(name=parameter, inputs=(), shape=shape)
            return parameter
        raise InputError("reads a tensor that no earlier node produces", layer=_node_name(node), field="input",
                         value=tensor)

    def fold(tensor: str, node: Any, **changes: Any) -> bool:
        """Fold ``node`` into the layer producing ``tensor`` if it is the only reader."""
        producer = renamed.get(tensor)
        if producer is None or readers.get(tensor, 0) != 1 or producer not in layers:
            return False
        layer = layers[producer]
        allowed = {
            "batchnorm": isinstance(layer, (L.Conv2d, L.ConvTranspose2d, L.Gemm, L.FullyConnected))
            and not layer.batchnorm and layer.activation is None,
            "activation": isinstance(layer, (L.WeightLayer, L.Eltwise)) and layer.activation is None,
            "bias": isinstance(layer, (L.Gemm, L.FullyConnected, L.Conv2d)) and not layer.bias,
        }
        if not all(allowed[k] for k in changes):
            return False
        layers[producer] = replace(layer, **changes)
        renamed[node.output[0]] = producer
        return True

    for node in graph.node:
        op = node.op_type
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        lname = _node_name(node)
        out = node.output[0]
        if op == "BatchNormalization" and fold(node.input[0], node, batchnorm=True):
            continue
        if op in _ACTIVATIONS and fold(node.input[0], node, activation=_ACTIVATIONS[op]):
            continue
        if op == "Add":
            const = [i for i in node.input if i in constants]
            if len(const) == 1 and fold(next(i for i in node.input if i not in constants), node, bias=True):
                continue
        layer = _convert(node, op, attrs, lname, constants, shapes, lambda t: source(t, node))
        layers[layer.name] = layer
        renamed[out] = layer.name
    return Network(
        name=_clean(model.graph.name) or name, source=f"ONNX model {name} (producer {model.producer_name or '?'})",
        inputs=inputs, layers=tuple(layers.values()), batch=batch or 1,
    )


def _convert(node, op, attrs, lname, constants, shapes, src) -> L.Layer:  # noqa: ANN001
    x = node.input[0]
    if op in ("Conv", "ConvTranspose"):
        weight = constants.get(node.input[1])
        if weight is None or weight.ndim != 4:
            raise InputError("needs a constant 4-D weight (2-D convolution)", layer=lname, field="W",
                             value=node.input[1])
        kernel = tuple(attrs.get("kernel_shape", weight.shape[2:]))
        pads = attrs.get("pads", [0, 0, 0, 0])
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise InputError("auto_pad is not supported; export with explicit pads", layer=lname, field="auto_pad",
                             value=attrs["auto_pad"])
        common = dict(
            name=lname, inputs=(src(x),), kernel=kernel, stride=tuple(attrs.get("strides", (1, 1))),
            dilation=tuple(attrs.get("dilations", (1, 1))), groups=int(attrs.get("group", 1)),
            bias=len(node.input) > 2 and bool(node.input[2]),
        )
        if op == "Conv":
            # ONNX pads are [top, left, bottom, right]
            return L.Conv2d(out_channels=int(weight.shape[0]), padding=(pads[0], pads[2], pads[1], pads[3]), **common)
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise InputError("asymmetric transposed-convolution padding is not supported", layer=lname,
                             field="pads", value=list(pads))
        return L.ConvTranspose2d(
            out_channels=int(weight.shape[1]) * common["groups"], padding=(pads[0], pads[1]),
            output_padding=tuple(attrs.get("output_padding", (0, 0))), **common,
        )
    if op == "Gemm":
        weight = constants.get(node.input[1])
        if weight is None or attrs.get("transA", 0):
            raise InputError("needs a constant B and no transA", layer=lname, field="B", value=node.input[1])
        out_features = int(weight.shape[0] if attrs.get("transB", 0) else weight.shape[1])
        return L.FullyConnected(name=lname, inputs=(src(x),), out_features=out_features,
                                bias=len(node.input) > 2 and bool(node.input[2]))
    if op == "MatMul":
        if node.input[1] in constants:
            return L.Gemm(name=lname, inputs=(src(x),), out_features=int(constants[node.input[1]].shape[-1]))
        a_shape = shapes.get(x, ())
        # (batch, heads, S, d) operands: the per-sample leading axis is the heads.
        heads = int(a_shape[1]) if len(a_shape) == 4 else 1
        return L.MatMul(name=lname, inputs=(src(x), src(node.input[1])), heads=heads)
    if op in ("MaxPool", "AveragePool"):
        pads = attrs.get("pads", [0, 0, 0, 0])
        kernel = tuple(attrs["kernel_shape"])
        return L.Pool(name=lname, inputs=(src(x),), mode="max" if op == "MaxPool" else "avg", kernel=kernel,
                      stride=tuple(attrs.get("strides", kernel)), padding=(pads[0], pads[2], pads[1], pads[3]),
                      ceil_mode=bool(attrs.get("ceil_mode", 0)))
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return L.Pool(name=lname, inputs=(src(x),), mode="avg" if op == "GlobalAveragePool" else "max",
                      global_pool=True)
    if op in ("Add", "Mul"):
        return L.Eltwise(name=lname, inputs=tuple(src(i) for i in node.input), op=op.lower())
    if op == "BatchNormalization":
        return L.Eltwise(name=lname, inputs=(src(x),), op="batchnorm")
    if op in _ACTIVATIONS or op == "Softmax":
        return L.Eltwise(name=lname, inputs=(src(x),), op=_ACTIVATIONS.get(op, "softmax"))
    if op == "Concat":
        axis = int(attrs["axis"])
        if axis < 0:
            axis += len(shapes.get(node.output[0], ()))
        if axis == 0:
            raise InputError("concatenation along the batch axis is not supported", layer=lname, field="axis",
                             value=axis)
        return L.Concat(name=lname, inputs=tuple(src(i) for i in node.input), axis=axis - 1)
    if op in ("Flatten", "Reshape", "Transpose"):
        shape = shapes.get(node.output[0])
        if not shape or 0 in shape[1:]:
            raise InputError("output shape unknown after shape inference", layer=lname, field="shape",
                             value=list(shape or ()))
        return L.Reshape(name=lname, inputs=(src(x),), shape=shape[1:] or (1,))
    raise InputError(f"unsupported ONNX operator (supported: {', '.join(SUPPORTED)})", layer=lname, field="op_type",
                     value=op)


SUPPORTED = ("Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
             "GlobalMaxPool", "Add", "Mul", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "Softmax", "Concat",
             "Flatten", "Reshape", "Transpose")


def _node_name(node: Any) -> str:
    return _clean(node.name) or _clean(node.output[0])


def _clean(name: str) -> str:
    return name.strip()
