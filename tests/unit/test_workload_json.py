"""Workload JSON: round trips, the schema, and one exact line for every bad input."""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from hwsim.errors import InputError
from hwsim.io.workload_json import dumps_network, load_network, network_from_dict, schema
from hwsim.workload.layers import LAYER_KINDS


def test_tiny_loads_with_expected_shapes_and_counts(tiny_doc, write_doc):
    net = load_network(write_doc(tiny_doc))
    assert [s.output_shape for s in net] == [(16, 32, 32), (16, 16, 16), (10,)]
    assert net.macs == 32 * 32 * 16 * 27 + 16 * 16 * 16 * 10
    assert net.params == 27 * 16 + 2 * 16 + 4096 * 10 + 10


def test_round_trip_is_exact(tiny_doc):
    net = network_from_dict(tiny_doc)
    text = dumps_network(net)
    assert network_from_dict(json.loads(text)) == net
    assert dumps_network(network_from_dict(json.loads(text))) == text


def test_schema_is_valid_and_accepts_written_documents(tiny_doc):
    jsonschema.Draft202012Validator.check_schema(schema())
    doc = json.loads(dumps_network(network_from_dict(tiny_doc)))
    jsonschema.validate(doc, schema())


@pytest.mark.parametrize("kind", sorted(LAYER_KINDS))
def test_schema_fields_match_layer_dataclasses(kind):
    """The schema and the dataclasses describe the same fields, so neither can drift."""
    props = set(schema()["$defs"][f"layer_{kind}"]["properties"])
    fields = {f.name for f in dataclasses.fields(LAYER_KINDS[kind])}
    assert props == fields | {"kind"}


def _set(path, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop(path):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


BAD = [
    (_set(["layers", 0, "stride"], -1), "w.json: layer 'conv1': field 'stride' = -1: must be >= 1"),
    (_set(["layers", 0, "stride"], [1, -1]), "w.json: layer 'conv1': field 'stride[1]' = -1: must be >= 1"),
    (_set(["layers", 0, "stride"], [1, 2, 3]),
     "w.json: layer 'conv1': field 'stride' = [1, 2, 3]: takes at most 2 entries"),
    (_set(["layers", 0, "out_channels"], 0), "w.json: layer 'conv1': field 'out_channels' = 0: must be >= 1"),
    (_set(["layers", 0, "out_channels"], -3), "w.json: layer 'conv1': field 'out_channels' = -3: must be >= 1"),
    (_set(["layers", 0, "out_channels"], "16"),
     "w.json: layer 'conv1': field 'out_channels' = '16': expected a JSON integer"),
    (_set(["layers", 0, "strides"], 2), "w.json: layer 'conv1': field 'strides': is not a known field here"),
    (_set(["layers", 0, "kind"], "conv3d"),
     "w.json: layer 'conv1': field 'kind' = 'conv3d': unknown layer kind (known: conv2d, conv_transpose2d, gemm, "
     "fc, matmul, pool, eltwise, concat, upsample, embedding, parameter, reshape, slice)"),
    (_drop(["layers", 0, "kernel"]), "w.json: layer 'conv1': field 'kernel': is required"),
    (_set(["layers", 0, "kernel"], 40), "w.json: layer 'conv1': field 'kernel' = [40, 40]: kernel does not fit the "
     "padded 32x32 input"),
    (_set(["layers", 0, "groups"], 2), "w.json: layer 'conv1': field 'groups' = 2: input channels 3 are not a "
     "multiple of groups"),
    (_set(["layers", 0, "sparsity"], "5:4"), "w.json: layer 'conv1': field 'sparsity' = '5:4': N must not exceed M"),
    (_set(["layers", 1, "sparsity"], "2:4"), "w.json: layer 'pool1': field 'sparsity' = '2:4': N:M sparsity applies to "
     "weight layers only (conv2d, conv_transpose2d, gemm, fc)"),
    (_set(["layers", 0, "sparsity"], "0:4"), "w.json: layer 'conv1': field 'sparsity' = '0:4': N must be >= 1"),
    (_set(["layers", 0, "sparsity"], "2/4"),
     "w.json: layer 'conv1': field 'sparsity' = '2/4': expected N:M, N non-zeros in every M weights along the "
     "reduction"),
    (_set(["layers", 0, "activation"], "swish"),
     "w.json: layer 'conv1': field 'activation' = 'swish': expected one of \"relu\", \"relu6\", \"elu\", \"gelu\", "
     "\"sigmoid\", \"hardsigmoid\", \"hardswish\", \"tanh\", \"silu\", null"),
    (_set(["layers", 1, "mode"], "min"), "w.json: layer 'pool1': field 'mode' = 'min': expected one of \"max\", \"avg\""),
    (_set(["layers", 2, "inputs"], ["nope"]),
     "w.json: layer 'fc': field 'inputs' = 'nope': is neither a layer nor a network input"),
    (_set(["layers", 0, "inputs"], ["fc"]),
     "w.json: layer 'pool1': field 'inputs': the layers form a cycle: conv1 -> pool1 -> fc -> conv1"),
    (_set(["layers", 1, "name"], "conv1"), "w.json: layer 'conv1': field 'name' = 'conv1': name is used twice"),
    (_set(["inputs", "image"], [3, 0, 32]), "w.json: field 'inputs.image[1]' = 0: must be >= 1"),
    (_set(["inputs", "image"], [32]), "w.json: layer 'conv1': field 'inputs' = [32]: expects a (C, H, W) feature map"),
    (_set(["batch"], 0), "w.json: field 'batch' = 0: must be >= 1"),
    (_set(["version"], 2), "w.json: field 'version' = 2: unsupported version; this hwsim reads version 1"),
    (_drop(["version"]), "w.json: field 'version' = None: unsupported version; this hwsim reads version 1"),
    (_set(["format"], "scalesim"), "w.json: field 'format' = 'scalesim': expected 'hwsim-workload'"),
    (_set(["layers"], []), "w.json: field 'layers' = []: must not be empty"),
    (_drop(["source"]), "w.json: field 'source': is required"),
]


@pytest.mark.parametrize("mutate, message", BAD, ids=[m for _, m in BAD])
def test_bad_documents_name_file_layer_field_and_value(tiny_doc, write_doc, mutate, message):
    mutate(tiny_doc)
    path = write_doc(tiny_doc)
    with pytest.raises(InputError) as err:
        load_network(path)
    assert str(err.value) == str(path) + message[len("w.json"):]


def test_malformed_json_names_line_and_column(write_doc):
    path = write_doc('{"format": "hwsim-workload",\n "version": 1,,}')
    with pytest.raises(InputError) as err:
        load_network(path)
    assert str(err.value) == f"{path}: malformed JSON at line 2 column 15: Expecting property name enclosed in double quotes"


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as err:
        load_network(tmp_path / "absent.json")
    assert str(err.value) == f"{tmp_path / 'absent.json'}: cannot read: No such file or directory"


def test_top_level_must_be_an_object(write_doc):
    path = write_doc("[1, 2]")
    with pytest.raises(InputError) as err:
        load_network(path)
    assert str(err.value) == f"{path}: value 'list': expected a JSON object with format 'hwsim-workload'"
