"""ONNX import on small models the test builds with onnx.helper."""

from __future__ import annotations

import numpy as np
import pytest

import onnx  # the onnx extra is part of the test install: a missing onnx must fail, not skip
from onnx import TensorProto, helper, numpy_helper

from hwsim.errors import InputError
from hwsim.io.onnx_import import read_onnx


def _init(name, shape):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def _save(tmp_path, nodes, inputs, outputs, inits, name="tiny"):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="hwsim-test")
    onnx.checker.check_model(model)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture
def cnn(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["bn1"], name="bn1"),
        helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="dw", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Add", ["c2", "r1"], ["a"], name="add"),
        helper.make_node("MaxPool", ["a"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [_init("w1", (8, 3, 3, 3)), _init("b1", (8,)), _init("s", (8,)), _init("bb", (8,)), _init("m", (8,)),
             _init("v", (8,)), _init("w2", (8, 1, 3, 3)), _init("wf", (10, 8)), _init("bf", (10,))]
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 16, 16])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 10])], inits)


def test_cnn_imports_with_batchnorm_and_relu_folded(cnn):
    net = read_onnx(cnn)
    assert net.batch == 2 and dict(net.inputs) == {"x": (3, 16, 16)}
    assert [s.name for s in net] == ["conv1", "dw", "add", "pool", "gap", "flatten", "fc"]
    conv1 = net.layer("conv1")
    assert conv1.batchnorm and conv1.activation == "relu" and conv1.bias
    assert net.stats("conv1").output_shape == (8, 8, 8)
    assert net.stats("dw").gemm.repeat == 8
    assert net.macs == 2 * (8 * 8 * 8 * 27 + 8 * 8 * 8 * 9 + 10 * 8)
    assert net.params == (8 * 27 + 8 + 16) + 8 * 9 + (80 + 10)


def test_matmul_with_weights_is_gemm_and_between_activations_is_matmul(tmp_path):
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        helper.make_node("Add", ["q", "bq"], ["qb"], name="q_bias"),
        helper.make_node("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["qb", "kt"], ["s"], name="scores"),
        helper.make_node("Softmax", ["s"], ["y"], name="softmax", axis=-1),
    ]
    inits = [_init("wq", (64, 64)), _init("bq", (64,)), _init("wk", (64, 64))]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 64])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 16])], inits, name="attn")
    net = read_onnx(path)
    assert net.layer("q_proj").kind == "gemm" and net.layer("q_proj").bias  # the constant Add folded as bias
    assert net.stats("kt").output_shape == (64, 16)
    assert net.stats("scores").kind == "matmul" and net.stats("scores").output_shape == (16, 16)
    assert net.stats("scores").gemm.macs == 16 * 16 * 64
    assert net.stats("q_proj").gemm.macs == 16 * 64 * 64


def test_unsupported_operator_names_the_node(tmp_path):
    nodes = [helper.make_node("LpNormalization", ["x"], ["y"], name="norm")]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], [], name="lp")
    with pytest.raises(InputError) as err:
        read_onnx(path)
    assert str(err.value).startswith(
        f"{path}: layer 'norm': field 'op_type' = 'LpNormalization': unsupported ONNX operator (supported: Conv,")


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"not a protobuf at all")
    with pytest.raises(InputError) as err:
        read_onnx(path)
    assert str(err.value).startswith(f"{path}: cannot read as ONNX:")
    assert "\n" not in str(err.value)
