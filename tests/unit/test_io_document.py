"""The one reader (:func:`hwsim.io.document.read_document`): format, version, upgraders, one-line errors."""

from __future__ import annotations

import json

import pytest

from hwsim.errors import InputError
from hwsim.io.arch_config import read_arch_json
from hwsim.io.dataflow_spec import read_dataflow
from hwsim.io.document import UPGRADERS, VERSIONS, read_document
from hwsim.io.load import load_file, readers
from hwsim.io.tech import load_technology, read_maestro, read_scaling
from hwsim.io.template_spec import load_template

from tests.conftest import REPO


def _write(tmp_path, doc, name="doc.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_every_format_has_a_reader_and_an_upgrader_registry():
    assert set(readers()) == set(VERSIONS) == set(UPGRADERS)


def test_a_toy_upgrader_carries_an_old_version_up_in_turn():
    versions = {"toy": 3}
    def rename(doc):  # version 1 called the size "width"
        doc["size"] = doc.pop("width")
        return doc

    upgraders = {"toy": {1: rename, 2: lambda d: {**d, "size": d["size"] * 2}}}
    doc = read_document({"format": "toy", "version": 1, "width": 4}, expect="toy", versions=versions,
                        upgraders=upgraders)
    assert dict(doc.body) == {"format": "toy", "version": 3, "size": 8}
    current = read_document({"format": "toy", "version": 3, "size": 1}, expect="toy", versions=versions,
                            upgraders=upgraders)
    assert current.body["size"] == 1


def test_a_version_without_an_upgrader_is_refused(tmp_path):
    versions, upgraders = {"toy": 2}, {"toy": {1: lambda d: d}}
    path = _write(tmp_path, {"format": "toy", "version": 3})
    with pytest.raises(InputError) as err:
        read_document(path, expect="toy", versions=versions, upgraders=upgraders)
    assert str(err.value) == f"{path}: field 'version' = 3: unsupported version; this hwsim reads version 2"
    with pytest.raises(InputError) as err:
        read_document({"format": "toy", "version": 0}, expect="toy", file="t.json", versions=versions,
                      upgraders=upgraders)
    assert str(err.value) == "t.json: field 'version' = 0: unsupported version; this hwsim reads version 2"


def test_one_reader_tells_the_two_formats_of_dataflows_apart():
    ws = read_document(REPO / "dataflows" / "ws.json", expect=("hwsim-dataflow", "hwsim-template"))
    nvdla = read_document(REPO / "dataflows" / "nvdla.json", expect=("hwsim-dataflow", "hwsim-template"))
    assert (ws.format, nvdla.format) == ("hwsim-dataflow", "hwsim-template")
    with pytest.raises(InputError) as err:
        read_dataflow(REPO / "dataflows" / "nvdla.json")
    assert str(err.value) == (f"{REPO / 'dataflows' / 'nvdla.json'}: field 'format' = 'hwsim-template': "
                              "expected 'hwsim-dataflow'")


def test_load_file_reads_each_format_into_its_description():
    assert isinstance(load_file(REPO / "dataflows" / "nvdla.json"), type(load_template("nvdla")))
    assert load_file(REPO / "hwsim" / "cost" / "tables" / "45nm.json") == load_technology("45nm")


_ARCH = {"format": "hwsim-systolic-array", "version": 1, "rows": 8, "cols": 8}


@pytest.mark.parametrize("text, message", [
    ('{"format": "hwsim-systolic-array",\n "rows": 8,,}',
     "malformed JSON at line 2 column 12: Expecting property name enclosed in double quotes"),
    ("[1, 2]", "value 'list': expected a JSON object with format 'hwsim-systolic-array'"),
    ({**_ARCH, "format": "hwsim-workload"}, "field 'format' = 'hwsim-workload': expected 'hwsim-systolic-array'"),
    ({**_ARCH, "version": 2}, "field 'version' = 2: unsupported version; this hwsim reads version 1"),
    ({**_ARCH, "version": "1"}, "field 'version' = '1': unsupported version; this hwsim reads version 1"),
    ({k: v for k, v in _ARCH.items() if k != "version"},
     "field 'version' = None: unsupported version; this hwsim reads version 1"),
    ({**_ARCH, "colz": 8}, "field 'colz': unknown key (known: format, version, rows, cols, dataflow, precision, "
                           "ifmap_bits, filter_bits, ofmap_bits, ifmap_sram_kib, filter_sram_kib, ofmap_sram_kib, "
                           "dram_bandwidth_bytes_per_cycle, clock_mhz, psum_bits, dram_latency_cycles, interface_bandwidth)"),
    ({**_ARCH, "cols": 0}, "field 'cols' = 0: must be a whole number >= 1"),
    ({**_ARCH, "clock_mhz": "fast"}, "field 'clock_mhz' = 'fast': must be a number > 0"),
])
def test_errors_are_one_line_naming_file_field_and_value(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_arch_json(path)
    assert str(err.value) == f"{path}: {message}"
    assert "\n" not in str(err.value)


def test_a_newer_technology_table_is_refused(tmp_path):
    table = json.loads((REPO / "hwsim" / "cost" / "tables" / "45nm.json").read_text())
    path = _write(tmp_path, {**table, "version": 2})
    with pytest.raises(InputError) as err:
        load_technology(path)
    assert str(err.value) == f"{path}: field 'version' = 2: unsupported version; this hwsim reads version 1"


@pytest.mark.parametrize("name, edit, message", [
    ("ws.json", lambda d: d["per_mac"]["hops"].update(weights=1),
     "field 'per_mac.hops.weights': unknown key (known: ifmap, filter, psum)"),
    ("ws.json", lambda d: d.update(stationary="psum"),
     "field 'stationary' = 'psum': must be one of filter, ifmap, ofmap"),
    ("ws.json", lambda d: d["per_output"]["hops"].pop("const"), "field 'per_output.hops.const': is required"),
    ("nvdla.json", lambda d: d.update(noc_hop_latency_cycles=-1),
     "field 'noc_hop_latency_cycles' = -1: must be a whole number >= 0"),
    ("nvdla.json", lambda d: d.update(color="red"), "field 'color': unknown key (known: format, version, name, "
     "title, stationary, description, source, spatial, pe_loops, temporal_order, noc_hop_latency_cycles)"),
])
def test_dataflow_and_template_files_are_checked(tmp_path, name, edit, message):
    doc = json.loads((REPO / "dataflows" / name).read_text())
    edit(doc)
    path = _write(tmp_path, doc, name)
    with pytest.raises(InputError) as err:
        (read_dataflow if name == "ws.json" else load_template)(str(path))
    assert str(err.value) == f"{path}: {message}"


def test_scaling_and_maestro_tables_are_checked(tmp_path):
    scaling = json.loads((REPO / "hwsim" / "cost" / "tables" / "scaling.json").read_text())
    scaling["nodes"]["28nm"]["area_factor"] = 0
    path = _write(tmp_path, scaling)
    with pytest.raises(InputError) as err:
        read_scaling(path)
    assert str(err.value) == f"{path}: field 'nodes.28nm.area_factor' = 0: must be a number > 0"
    maestro = json.loads((REPO / "hwsim" / "cost" / "tables" / "maestro.json").read_text())
    maestro["area_um2"]["noc"]["value"] = [1.0, 2.0]
    path = _write(tmp_path, maestro)
    with pytest.raises(InputError) as err:
        read_maestro(path)
    assert str(err.value) == f"{path}: field 'area_um2.noc.value' = [1.0, 2.0]: must be a list of 3 numbers"
