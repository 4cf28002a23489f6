"""Template files (``hwsim-template``): a sub-accelerator's dataflow as data, checked on load.

A bundled template is ``dataflows/<name>.json``; a user's template is any file in the same format (copy one and
edit it). The fields are described in ``dataflows/README.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from hwsim.arch.templates import Template
from hwsim.errors import InputError
from hwsim.io.checks import keys, string, whole
from hwsim.io.document import bundled, read_document

FORMAT = "hwsim-template"

LOOP_DIMS = ("G", "N", "K", "C", "Y", "X", "R", "S")
"""Loop dimensions of a layer: groups, batch, output and input channels, output rows and columns, filter rows and
columns."""

BUNDLED_TEMPLATES = ("nvdla", "shidiannao", "eyeriss")
_KEYS = ("format", "version", "name", "title", "stationary", "description", "source", "spatial", "pe_loops",
         "temporal_order", "noc_hop_latency_cycles")


def load_template(ref: str | Path) -> Template:
    """A bundled template by name (``nvdla``, ``shidiannao``, ``eyeriss``) or a user's ``hwsim-template`` file.

    A bundled template is read once per process; a file is read at every call (it may have been edited).
    """
    text = str(ref)
    if text in BUNDLED_TEMPLATES:
        return _bundled(text)
    if not text.endswith(".json"):
        raise InputError(f"unknown template (bundled: {', '.join(BUNDLED_TEMPLATES)}; or a .json template file)",
                         field="template", value=text)
    return read_template(text)


@lru_cache(maxsize=None)
def _bundled(name: str) -> Template:
    return read_template(bundled("dataflows", f"{name}.json"), file=f"dataflows/{name}.json")


def read_template(source: str | Path | Mapping[str, Any], *, file: str | None = None) -> Template:
    """A :class:`Template` from a template file or its parsed document, checked field by field; the first problem is
    an :class:`InputError` naming the key."""
    document = read_document(source, expect=FORMAT, file=file)
    with document.located():
        return _template(document.body)


def _template(doc: Mapping[str, Any]) -> Template:
    def fail(problem: str, key: str, value: object) -> InputError:
        return InputError(problem, field=key, value=value)

    keys(doc, _KEYS)
    for key in ("name", "stationary", "description", "source"):
        string(doc.get(key), key)
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
    return Template(
        name=doc["name"], title=doc.get("title", doc["name"]), stationary=doc["stationary"], across=tuple(across),
        within=spatial["within"], cluster_size=size, pe_loops=tuple(pe_loops), temporal_order=tuple(order),
        noc_hop_latency_cycles=whole(doc.get("noc_hop_latency_cycles"), "noc_hop_latency_cycles", minimum=0),
        source=doc["source"],
    )
