"""Reading and writing workload JSON (format ``hwsim-workload``, version 1).

The structure is checked against ``schemas/workload-v1.schema.json`` (the schema users'
editors and other tools can use too); values that need the whole network, such as shapes
chaining through the DAG, are checked by :class:`~hwsim.workload.network.Network`. Either
way a problem surfaces as one :class:`~hwsim.errors.InputError` line naming the file, the
layer, the field and the value.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.io.document import Document, VERSIONS, bundled, read_document
from hwsim.workload.layers import LAYER_KINDS
from hwsim.workload.network import Network

FORMAT = "hwsim-workload"
VERSION = VERSIONS[FORMAT]


@lru_cache(maxsize=None)
def schema() -> dict[str, Any]:
    """The JSON Schema of the current format version."""
    text = bundled("hwsim.io", "schemas", f"workload-v{VERSION}.schema.json").read_text()
    return json.loads(text)


@lru_cache(maxsize=None)
def _validators() -> tuple[Any, dict[str, Any]]:
    import jsonschema  # only where a document is validated: the CLI starts faster without it

    full = schema()
    # The top level is checked with layers as bare objects: each layer is then checked against
    # its own kind, which gives a precise message where the schema's oneOf would give a vague one.
    top = copy.deepcopy(full)
    top["properties"]["layers"]["items"] = {"type": "object"}
    by_kind = {
        kind: jsonschema.Draft202012Validator({"$ref": f"#/$defs/layer_{kind}", "$defs": full["$defs"]})
        for kind in LAYER_KINDS
    }
    return jsonschema.Draft202012Validator(top), by_kind


def load_network(path: str | Path) -> Network:
    """Load a workload file."""
    return _network(read_document(path, expect=FORMAT))


def network_from_dict(doc: Any, *, file: str | None = None) -> Network:
    """Build a :class:`Network` from a parsed workload document."""
    return _network(read_document(doc, expect=FORMAT, file=file))


def _network(document: Document) -> Network:
    with document.located():
        return _network_from_dict(document.body)


def _network_from_dict(doc: Any) -> Network:
    top, by_kind = _validators()
    _raise_first(top, doc, layer=None)
    layers = []
    for index, spec in enumerate(doc["layers"]):
        label = spec.get("name") if isinstance(spec.get("name"), str) else f"#{index}"
        kind = spec.get("kind")
        if kind not in LAYER_KINDS:
            raise InputError(f"unknown layer kind (known: {', '.join(LAYER_KINDS)})", layer=label, field="kind",
                             value=kind)
        _raise_first(by_kind[kind], spec, layer=label)
        fields = {k: v for k, v in spec.items() if k != "kind"}
        layers.append(LAYER_KINDS[kind](**fields))
    return Network(
        name=doc["name"], source=doc["source"], inputs=doc["inputs"], layers=tuple(layers),
        batch=doc["batch"], datatype_bits=doc["datatype_bits"],
    )


def _raise_first(validator: Any, instance: Any, *, layer: str | None) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(instance))
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        raise InputError("is required", layer=layer, field=_field(path + missing[:1]))
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra[:1] == ["sparsity"]:
            raise InputError("N:M sparsity applies to weight layers only (conv2d, conv_transpose2d, gemm, fc)",
                             layer=layer, field="sparsity", value=error.instance["sparsity"])
        raise InputError("is not a known field here", layer=layer, field=_field(path + extra[:1]))
    if error.validator == "oneOf":
        problem = "expected " + error.schema.get("description", "one of the allowed forms")
    elif error.validator == "const":
        problem = f"expected {error.validator_value!r}"
    elif error.validator == "enum":
        problem = "expected one of " + ", ".join(json.dumps(v) for v in error.validator_value)
    elif error.validator == "minimum":
        problem = f"must be >= {error.validator_value}"
    elif error.validator == "minItems":
        problem = "must not be empty" if error.validator_value == 1 else f"needs {error.validator_value} entries"
    elif error.validator == "maxItems":
        problem = f"takes at most {error.validator_value} entries"
    elif error.validator == "type":
        problem = f"expected a JSON {error.validator_value}"
    elif error.validator == "pattern":
        problem = "expected " + error.schema.get("description", f"text matching {error.validator_value}")
    else:
        problem = error.message.replace(repr(error.instance), "value", 1)
    raise InputError(problem, layer=layer, field=_field(path) or None, value=error.instance)


def _field(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def network_to_dict(network: Network) -> dict[str, Any]:
    """The workload document of ``network`` (what :func:`network_from_dict` reads back)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": network.name,
        "source": network.source,
        "batch": network.batch,
        "datatype_bits": network.datatype_bits,
        "inputs": {name: list(shape) for name, shape in network.inputs.items()},
        "layers": [layer.spec() for layer in network.layers],
    }


def dumps_network(network: Network) -> str:
    """JSON text with one layer per line, so that diffs of workloads read layer by layer."""
    doc = network_to_dict(network)
    layers = doc.pop("layers")
    inputs = doc.pop("inputs")
    head = json.dumps(doc, indent=2)[:-2] + ',\n  "inputs": ' + json.dumps(inputs)
    body = ",\n".join("    " + json.dumps(layer) for layer in layers)
    return f'{head},\n  "layers": [\n{body}\n  ]\n}}\n'


def dump_network(network: Network, path: str | Path) -> None:
    Path(path).write_text(dumps_network(network))
