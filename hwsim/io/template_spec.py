"""Template files (``hwsim-template``): a sub-accelerator's dataflow as data, checked on load.

A bundled template is ``dataflows/<name>.json``; a user's template is any file in the same format (copy one and
edit it). The fields are described in ``dataflows/README.md``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.io.jsonfile import read_json

LOOP_DIMS = ("G", "N", "K", "C", "Y", "X", "R", "S")
"""Loop dimensions of a layer: groups, batch, output and input channels, output rows and columns, filter rows and
columns."""

BUNDLED_TEMPLATES = ("nvdla", "shidiannao", "eyeriss")
_KEYS = {"format", "version", "name", "title", "stationary", "description", "source", "spatial", "pe_loops",
         "temporal_order", "noc_hop_latency_cycles"}


def read_template_doc(ref: str | Path) -> tuple[dict[str, Any], str]:
    """The JSON document of a bundled template name or a template file, and where it came from."""
    text = str(ref)
    if text in BUNDLED_TEMPLATES:
        return json.loads(resources.files("dataflows").joinpath(f"{text}.json").read_text()), f"dataflows/{text}.json"
    if not text.endswith(".json"):
        raise InputError(f"unknown template (bundled: {', '.join(BUNDLED_TEMPLATES)}; or a .json template file)",
                         field="template", value=text)
    return read_json(text), text


def check_template_doc(doc: Any, file: str) -> dict[str, Any]:
    """``doc`` checked field by field; the first problem is an :class:`InputError` naming the key."""

    def fail(problem: str, key: str, value: object) -> InputError:
        return InputError(problem, file=file, field=key, value=value)

    if not isinstance(doc, dict):
        raise fail("a template file is a JSON object", "(top level)", type(doc).__name__)
    if doc.get("format") != "hwsim-template":
        raise fail("expected 'hwsim-template'", "format", doc.get("format"))
    if doc.get("version") != 1:
        raise fail("unsupported version (known: 1)", "version", doc.get("version"))
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise fail(f"unknown key (known: {', '.join(sorted(_KEYS))})", unknown[0], doc[unknown[0]])
    for key in ("name", "stationary", "description", "source"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise fail("must be a non-empty string", key, doc.get(key))
    spatial = doc.get("spatial")
    if not isinstance(spatial, dict) or set(spatial) != {"across", "within", "cluster_size"}:
        raise fail("must be an object with across, within and cluster_size", "spatial", spatial)
    if spatial["within"] not in LOOP_DIMS:
        raise fail(f"must be a loop dimension ({', '.join(LOOP_DIMS)})", "spatial.within", spatial["within"])
    across = spatial["across"] if isinstance(spatial["across"], list) else [spatial["across"]]
    if not across or any(d not in LOOP_DIMS for d in across) or len(set(across)) != len(across):
        raise fail(f"must be a loop dimension or a list of distinct ones ({', '.join(LOOP_DIMS)})", "spatial.across",
                   spatial["across"])
    if spatial["within"] in across:
        raise fail("must differ from the spatial.across dimensions", "spatial.within", spatial["within"])
    size = spatial["cluster_size"]
    if not (size in LOOP_DIMS or (isinstance(size, int) and not isinstance(size, bool) and size >= 1)):
        raise fail("must be a whole number >= 1 or a loop dimension (the layer's size of it)",
                   "spatial.cluster_size", size)
    pe_loops = doc.get("pe_loops")
    if not isinstance(pe_loops, list) or any(d not in LOOP_DIMS for d in pe_loops) or len(set(pe_loops)) != len(pe_loops):
        raise fail(f"must be a list of distinct loop dimensions ({', '.join(LOOP_DIMS)})", "pe_loops", pe_loops)
    spatial_in_pe = [d for d in (*across, spatial["within"]) if d in pe_loops]
    if spatial_in_pe:
        raise fail("a dimension spread over PEs cannot also run inside a PE", "pe_loops", spatial_in_pe[0])
    order = doc.get("temporal_order")
    expected = set(LOOP_DIMS) - set(pe_loops)
    if not isinstance(order, list) or len(order) != len(set(order)) or set(order) != expected:
        raise fail(f"must list each of {', '.join(d for d in LOOP_DIMS if d in expected)} once (every dimension "
                   "not in pe_loops), outermost first", "temporal_order", order)
    hop = doc.get("noc_hop_latency_cycles")
    if not isinstance(hop, int) or isinstance(hop, bool) or hop < 0:
        raise fail("must be a whole number >= 0", "noc_hop_latency_cycles", hop)
    return doc
