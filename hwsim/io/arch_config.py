"""Hardware descriptions from files: SCALE-Sim ``.cfg`` files and hwsim's own JSON."""

from __future__ import annotations

import configparser
from dataclasses import fields
from pathlib import Path
from typing import Any

from hwsim.arch.systolic import FORMAT, INTERFACE_BANDWIDTHS, SystolicArray
from hwsim.errors import InputError
from hwsim.io.checks import keys
from hwsim.io.document import read_document

# SCALE-Sim [architecture_presets] keys -> SystolicArray fields. Its SRAM sizes are in KiB and its
# Bandwidth in words per cycle; hwsim's words are the operand widths (8 bits by default).
_SCALESIM_KEYS = {
    "ArrayHeight": "rows",
    "ArrayWidth": "cols",
    "IfmapSramSzkB": "ifmap_sram_kib",
    "FilterSramSzkB": "filter_sram_kib",
    "OfmapSramSzkB": "ofmap_sram_kib",
    "Bandwidth": "dram_bandwidth_bytes_per_cycle",
    "Dataflow": "dataflow",
}


def read_scalesim_cfg(path: str | Path) -> SystolicArray:
    """A SCALE-Sim configuration file's ``[architecture_presets]`` as a :class:`SystolicArray`."""
    file = str(path)
    parser = configparser.ConfigParser()
    parser.optionxform = str  # SCALE-Sim's keys are CamelCase
    try:
        with open(path) as handle:
            parser.read_file(handle)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=file) from None
    except configparser.Error as err:
        raise InputError(f"malformed configuration: {str(err).splitlines()[0]}", file=file) from None
    if not parser.has_section("architecture_presets"):
        raise InputError("no [architecture_presets] section: not a SCALE-Sim configuration", file=file)
    section = parser["architecture_presets"]
    values: dict[str, Any] = {}
    for key, name in _SCALESIM_KEYS.items():
        if key not in section:
            raise InputError("is required in [architecture_presets]", file=file, field=key)
        text = section[key].strip()
        if name == "dataflow":
            values[name] = text
            continue
        try:
            number = float(text)
        except ValueError:
            raise InputError("expected a number", file=file, field=key, value=text) from None
        values[name] = int(number) if name in ("rows", "cols") and number.is_integer() else number
    values["interface_bandwidth"] = _interface_bandwidth(parser, file)
    try:
        return SystolicArray(**values)
    except InputError as err:
        raise InputError(err.problem, file=file, field=_scalesim_key(err.field), value=err.value) from None


def _interface_bandwidth(parser: configparser.ConfigParser, file: str) -> str:
    """``[run_presets] InterfaceBandwidth`` (``CALC`` or ``USER``, any case); ``CALC`` when absent.

    SCALE-Sim 3.0.0 itself stops on such a file (``scale_config.read_conf_file`` reads the key unguarded:
    ``configparser.NoOptionError``); hwsim reads it as ``CALC``, the value of SCALE-Sim's stock configs and of its
    ``scale_config`` before a file is read.
    """
    if not parser.has_option("run_presets", "InterfaceBandwidth"):
        return "CALC"
    text = parser["run_presets"]["InterfaceBandwidth"].strip()
    if text.upper() not in INTERFACE_BANDWIDTHS:
        raise InputError(f"expected {' or '.join(INTERFACE_BANDWIDTHS)}", file=file,
                         field="InterfaceBandwidth", value=text)
    return text.upper()


def _scalesim_key(field: str | None) -> str | None:
    for key, name in _SCALESIM_KEYS.items():
        if name == field:
            return key
    return field


def read_arch_json(path: str | Path) -> SystolicArray:
    """An hwsim architecture file: ``{"format": "hwsim-systolic-array", "version": 1, ...fields}``."""
    doc = read_document(path, expect=FORMAT)
    known = ("format", "version", *(f.name for f in fields(SystolicArray)))
    with doc.located():
        keys(doc.body, known, required=("rows", "cols"))
        return SystolicArray(**{k: v for k, v in doc.body.items() if k not in ("format", "version")})
