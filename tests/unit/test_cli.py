"""The hwsim command: outputs, files, and one line with exit code 2 for every bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from hwsim.cli import main
from hwsim.workload.zoo import ZOO

from tests.conftest import REPO

RESNET50 = str(REPO / "workloads" / "resnet50.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_workloads_lists_every_network_with_macs_and_params(capsys, tmp_path):
    code, out, err = run(capsys, "workloads", "--json", str(tmp_path / "w.json"), "--csv", str(tmp_path / "w.csv"))
    assert code == 0 and err == ""
    for name in ZOO:
        assert name in out
    assert "4,089,184,256" in out and "25,557,032" in out  # ResNet-50 MACs and params
    rows = json.loads((tmp_path / "w.json").read_text())
    assert {r["Network"] for r in rows} == set(ZOO)
    assert list(csv.DictReader(open(tmp_path / "w.csv")))[0].keys() >= {"Network", "MACs", "Params"}


def test_info_prints_layer_table_and_writes_same_numbers(capsys, tmp_path):
    code, out, err = run(capsys, "info", RESNET50, "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[2].split() == ["Layer", "Kind", "Input", "shape", "Output", "shape", "M", "N", "K", "Repeat", "MACs",
                                "Params"]
    assert lines[4].split() == ["conv1", "conv2d", "3x224x224", "64x112x112", "12,544", "64", "147", "1",
                                "118,013,952", "9,536"]
    assert lines[-1].split() == ["total", "4,089,184,256", "25,557,032"]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["total"]["MACs"] == 4089184256 and doc["network"]["Params"] == 25557032
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert rows[0]["M"] == "12544" and rows[-1]["Layer"] == "total" and rows[-1]["MACs"] == "4089184256"
    assert sum(int(r["MACs"]) for r in rows[:-1]) == 4089184256


def test_info_accepts_a_bundled_name_and_quiet_prints_nothing(capsys):
    code, out, err = run(capsys, "info", "mobilenet_v1", "--quiet")
    assert (code, out, err) == (0, "", "")


def test_convert_csv_to_json_and_back(capsys, tmp_path):
    src = str(REPO / "tests" / "data" / "scalesim" / "mobilenet.csv")
    code, out, _ = run(capsys, "convert", src, "-o", str(tmp_path / "m.json"))
    assert code == 0 and out == f"wrote {tmp_path / 'm.json'}: 27 layers, 565,519,488 MACs, 3,185,088 params\n"
    code, out, _ = run(capsys, "convert", str(tmp_path / "m.json"), "-o", str(tmp_path / "m.csv"))
    assert code == 0 and out == f"wrote {tmp_path / 'm.csv'}: 27 SCALE-Sim conv rows\n"
    code, out, _ = run(capsys, "convert", RESNET50, "-o", str(tmp_path / "r.csv"), "--format", "gemm")
    assert code == 0
    assert out == (f"wrote {tmp_path / 'r.csv'}: 54 SCALE-Sim gemm rows; left out 18 memory-only layers "
                          "SCALE-Sim cannot express (maxpool, layer1.0.add, layer1.1.add, layer1.2.add, layer2.0.add, "
                          "...)\n")


def test_run_prints_the_table_and_writes_the_same_numbers(capsys, tmp_path):
    code, out, err = run(capsys, "run", RESNET50, "--array", "64x64", "--dataflow", "ws", "--json",
                         str(tmp_path / "o.json"), "--csv", str(tmp_path / "o.csv"), "--plot", str(tmp_path / "r.png"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("resnet50 on a 64x64 ws int8 array; SRAM ifmap/filter/ofmap 64/64/64 KiB, DRAM 10 B/cycle, "
                        "1000 MHz, 45nm (native)")
    doc = json.loads((tmp_path / "o.json").read_text())
    rows = list(csv.DictReader(open(tmp_path / "o.csv")))
    assert rows[-1]["Layer"] == "total" and int(rows[-1]["Total Cycles"]) == doc["total"]["Total Cycles"]
    assert sum(int(r["Total Cycles"]) for r in rows[:-1]) == doc["total"]["Total Cycles"]
    assert doc["total"]["MACs"] == 4089184256 and doc["arch"]["rows"] == 64
    assert lines[-2].startswith(f"{doc['total']['Total Cycles']:,} cycles")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_with_a_scalesim_config_in_compat_mode(capsys, tmp_path):
    cfg = str(REPO / "tests" / "data" / "scalesim" / "scale.cfg")
    topo = str(REPO / "tests" / "data" / "scalesim" / "resnet50.csv")
    code, out, _ = run(capsys, "run", topo, "--config", cfg, "--compat", "scalesim", "--json", str(tmp_path / "o.json"))
    assert code == 0 and out.splitlines()[0].startswith("resnet50 on a 32x32 ws int8 array")
    assert out.splitlines()[0].endswith("(scalesim compatibility)")
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["compat"] == "scalesim" and doc["total"]["Stall Cycles"] == 0
    code, out, _ = run(capsys, "run", topo, "--config", cfg, "--array", "8x16", "--dataflow", "os", "--quiet")
    assert (code, out) == (0, "")


def test_compat_without_a_config_is_scalesims_stock_calc_interface(capsys, tmp_path):
    """--compat scalesim alone runs SCALE-Sim's stock InterfaceBandwidth CALC (no stalls, a DRAM side); with
    --bandwidth it runs USER at that bandwidth."""
    def total(*argv):
        code, _, _ = run(capsys, "run", "mobilenet_v1", "--array", "32x32", "--compat", "scalesim", *argv, "--json",
                         str(tmp_path / "o.json"), "--quiet")
        assert code == 0
        return json.loads((tmp_path / "o.json").read_text())["total"]

    calc = total()
    assert calc["Stall Cycles"] == 0 and calc["DRAM IFMAP Read Bytes"] > 0
    assert calc["Total Cycles (incl. prefetch)"] > calc["Total Cycles"]
    cfg = REPO / "tests" / "data" / "scalesim" / "scale.cfg"
    assert total("--config", str(cfg)) == calc
    assert total("--bandwidth", "10")["Stall Cycles"] > 0


def test_native_config_honours_its_interface_bandwidth(capsys, tmp_path):
    """A .cfg's [run_presets] InterfaceBandwidth: CALC never stalls; USER moves the file's Bandwidth (10 words of a
    byte per cycle), exactly as --bandwidth 10 does; --bandwidth over a CALC file applies."""
    cfg = REPO / "tests" / "data" / "scalesim" / "scale.cfg"
    user = tmp_path / "user.cfg"
    user.write_text(cfg.read_text().replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER"))

    def total(*argv):
        code, _, _ = run(capsys, "run", "resnet50", *argv, "--json", str(tmp_path / "o.json"), "--quiet")
        assert code == 0
        return json.loads((tmp_path / "o.json").read_text())["total"]

    calc, given = total("--config", str(cfg)), total("--config", str(user))
    assert calc["Stall Cycles"] == 0 and given["Stall Cycles"] > 0
    assert given == total("--config", str(cfg), "--bandwidth", "10")
    assert given == total("--array", "32x32", "--bandwidth", "10")
    late = total("--array", "32x32", "--bandwidth", "10", "--dram-latency", "100")
    assert late["Stall Cycles"] > given["Stall Cycles"]


BAD_INPUT = [
    (["run", RESNET50, "--array", "0x64"], "hwsim: error: field '--array' = '0x64': rows and columns must both be >= 1"),
    (["run", RESNET50, "--array", "64"], "hwsim: error: field '--array' = '64': expected ROWSxCOLS, e.g. 64x64"),
    (["run", RESNET50, "--array", "64x64", "--dataflow", "xs"],
     "hwsim: error: field '--dataflow' = 'xs': unknown dataflow (known: ws, os, is, best)"),
    (["run", RESNET50], "hwsim: error: field '--array': is required unless --config or --arch gives the array"),
    (["run", RESNET50, "--array", "8x8", "--bandwidth", "0"],
     "hwsim: error: field 'dram_bandwidth_bytes_per_cycle' = 0.0: must be a number > 0"),
    (["run", RESNET50, "--array", "8x8", "--dram-latency", "-1"],
     "hwsim: error: field 'dram_latency_cycles' = -1: must be a whole number of cycles >= 0"),
    (["run", RESNET50, "--array", "8x8", "--bandwidth", "inf"],
     "hwsim: error: field 'dram_bandwidth_bytes_per_cycle' = inf: must be a number > 0"),
    (["run", RESNET50, "--array", "8x8", "--dataflow", "rs"],
     "hwsim: error: field '--dataflow' = 'rs': unknown dataflow (known: ws, os, is, best)"),
    (["run", RESNET50, "--array", "64x64", "--compat", "maestro"],
     "hwsim: error: field 'compat' = 'maestro': unknown compatibility mode (known: scalesim)"),
    (["info", "nosuchnet"], "hwsim: error: field 'workload' = 'nosuchnet': expected a .json workload, a SCALE-Sim "
     ".csv, an .onnx model or a bundled network (" + ", ".join(sorted(ZOO)) + ")"),
    (["frobnicate"], "hwsim: error: argument command: invalid choice: 'frobnicate' (choose from 'workloads', 'info', "
     "'convert', 'run', 'area', 'explore', 'sweep', 'rtl') (see 'hwsim --help')"),
    (["convert", RESNET50, "-o", "out.txt"], "hwsim: error: field '--output' = 'out.txt': expected a .json or .csv "
     "file to write"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == message + "\n"


@pytest.mark.parametrize("content, message", [
    ("{not json", "malformed JSON at line 1 column 2: Expecting property name enclosed in double quotes"),
    ('{"format": "hwsim-workload", "version": 1, "name": "x", "source": "s", "batch": 1, "datatype_bits": 8, '
     '"inputs": {"x": [3, 8, 8]}, "layers": [{"name": "l", "kind": "lstm", "inputs": ["x"]}]}',
     "layer 'l': field 'kind' = 'lstm': unknown layer kind (known: conv2d, conv_transpose2d, gemm, fc, matmul, pool, "
     "eltwise, concat, upsample, embedding, parameter, reshape, slice)"),
])
def test_the_real_command_prints_no_traceback(tmp_path, content, message):
    """As a user runs it: a separate process, its stderr and exit status."""
    path = tmp_path / "bad.json"
    path.write_text(content)
    proc = subprocess.run([sys.executable, "-m", "hwsim", "run", str(path), "--array", "64x64"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"hwsim: error: {path}: {message}\n"


def test_a_layer_that_cannot_fit_writes_nothing(capsys, tmp_path):
    arch = tmp_path / "tiny.json"
    arch.write_text(json.dumps({"format": "hwsim-systolic-array", "version": 1, "rows": 64, "cols": 64,
                                "filter_sram_kib": 2}))
    out_json, out_csv, plot = tmp_path / "o.json", tmp_path / "o.csv", tmp_path / "r.png"
    code, out, err = run(capsys, "run", RESNET50, "--arch", str(arch), "--json", str(out_json), "--csv", str(out_csv),
                         "--plot", str(plot))
    assert code == 2 and out == ""
    assert err == ("hwsim: error: layer 'conv1': field 'filter_sram_kib' = 2: one fold's filter tile (4096 bytes) "
                   "does not fit half of the 2 KiB filter SRAM (it is double-buffered)\n")
    assert not out_json.exists() and not out_csv.exists() and not plot.exists()


def test_area_without_a_workload(capsys, tmp_path):
    code, out, err = run(capsys, "area", "--array", "64x64", "--json", str(tmp_path / "a.json"), "--csv",
                         str(tmp_path / "a.csv"))
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("area of a 64x64 ws int8 array; SRAM ifmap/filter/ofmap 64/64/64 KiB")
    doc = json.loads((tmp_path / "a.json").read_text())
    total = doc["area"][-1]
    assert total["Component"] == "total" and out.splitlines()[-1].startswith(f"{total['Area mm2']:.3f} mm2")
    rows = list(csv.DictReader(open(tmp_path / "a.csv")))
    assert [r["Component"] for r in rows] == ["PE (each)", "PE array", "SRAM ifmap", "SRAM filter", "SRAM ofmap",
                                             "total"]


def test_run_reports_energy_and_area_and_tech_changes_them(capsys, tmp_path):
    code, out45, _ = run(capsys, "run", "resnet18", "--array", "32x32", "--json", str(tmp_path / "45.json"))
    code7, out7, _ = run(capsys, "run", "resnet18", "--array", "32x32", "--tech", "7nm", "--json",
                         str(tmp_path / "7.json"))
    assert code == code7 == 0
    assert " uJ (" in out45.splitlines()[-1] and "TOPS/W" in out45.splitlines()[-1]
    s45 = json.loads((tmp_path / "45.json").read_text())["summary"]
    s7 = json.loads((tmp_path / "7.json").read_text())["summary"]
    assert s7["Energy uJ"] < s45["Energy uJ"] and s7["Area mm2"] < s45["Area mm2"]
    assert s7["Total Cycles"] == s45["Total Cycles"]
    code, _, err = run(capsys, "run", "resnet18", "--array", "32x32", "--tech", "3nm")
    assert code == 2 and err.startswith("hwsim: error: field 'tech' = '3nm': expected a bundled node (45nm,")


@pytest.mark.rtl
def test_rtl_generate_writes_verilog_and_port_sidecar(capsys, tmp_path):
    code, out, err = run(capsys, "rtl", "generate", "--array", "2x3", "--dataflow", "os", "-o", str(tmp_path),
                         "--max-m", "4", "--max-n", "4", "--max-k", "4")
    assert code == 0 and err == ""
    verilog, sidecar = tmp_path / "systolic_2x3_os.v", tmp_path / "systolic_2x3_os.json"
    assert out == f"wrote {verilog}\nwrote {sidecar}\n"
    doc = json.loads(sidecar.read_text())
    assert (doc["rows"], doc["cols"], doc["dataflow"]) == (2, 3, "os")
    assert "module systolic_2x3_os" in verilog.read_text()
    code, _, err = run(capsys, "rtl", "generate", "--array", "2x2", "-o", str(tmp_path), "--max-k", "70000")
    assert code == 2
    assert err == "hwsim: error: field 'rtl generate': max_k must be a whole number from 1 to 65535, got 70000\n"
