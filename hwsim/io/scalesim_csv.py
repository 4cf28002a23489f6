"""SCALE-Sim topology CSVs, both ways.

SCALE-Sim reads two formats (its ``topology_utils.py``, v2 and v3 alike):

* conv: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
  Num Filter, Strides,`` (an optional ninth column is the column stride). Rows are independent
  layers: the IFMAP sizes already include any padding, and SCALE-Sim computes the output as
  ``ceil((H - R + S) / S)``. A layer whose name contains ``DP`` is depthwise: SCALE-Sim runs it
  as ``Channels`` one-channel convolutions of ``Num Filter`` filters each.
* gemm (``-i gemm``): ``Layer, M, N, K,``, run as an ``M x K`` ifmap with ``N`` filters of
  ``1 x K``, so ``T = M``, ``Sr = K``, ``Sc = N`` in weight-stationary terms.

Import gives every row its own network input ``<layer>.ifmap``; a conv row becomes a
``conv2d`` with no padding but ``S - 1 - (H - R) % S`` extra rows/columns at the bottom/right
when SCALE-Sim's ceiling adds a partial window, so output sizes and MACs equal SCALE-Sim's.
Export writes each compute layer as SCALE-Sim would need it: a convolution with the input
extent its windows actually cover (``(Ho - 1) * S + R``), depthwise as a ``DP`` row, other
grouped convolutions as one row per group, and every other compute kind by its GEMM
dimensions, one row per repeat. Memory-only layers have no SCALE-Sim equivalent and are
counted in the result so callers can say they were left out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from hwsim.errors import InputError
from hwsim.workload.layers import Conv2d, Gemm
from hwsim.workload.network import Network

CONV_HEADER = ["Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
               "Num Filter", "Strides"]
GEMM_HEADER = ["Layer", "M", "N", "K"]


def read_topology(path: str | Path, *, datatype_bits: int = 8) -> Network:
    """Load a SCALE-Sim topology CSV (conv or gemm format, told apart by the header)."""
    file = str(path)
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=file) from None
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise InputError("no header row: not a SCALE-Sim topology", file=file)
    header = [h.lower() for h in rows[0]]
    gemm = header[1:4] == ["m", "n", "k"]
    if not gemm and (len(header) < 8 or not header[1].startswith("ifmap")):
        raise InputError(
            "header is neither SCALE-Sim's conv format (Layer name, IFMAP Height, ...) nor its gemm format "
            "(Layer, M, N, K)", file=file, value=",".join(rows[0][:8]),
        )
    stride_w_column = len(header) > 8 and "stride" in header[8]
    inputs: dict[str, tuple[int, ...]] = {}
    layers = []
    try:
        for line, row in enumerate(rows[1:], start=2):
            name = row[0]
            if not name:
                raise InputError("layer name is empty", field=f"line {line}", value=",".join(row))
            columns = GEMM_HEADER[1:] if gemm else CONV_HEADER[1:] + (["Stride width"] if stride_w_column else [])
            values = {}
            for i, column in enumerate(columns, start=1):
                cell = row[i] if i < len(row) else ""
                if not cell and column == "Stride width":
                    continue
                if not cell.isdigit() or int(cell) < 1:
                    raise InputError("must be a whole number >= 1", layer=name, field=column, value=cell)
                values[column] = int(cell)
            source = f"{name}.ifmap"
            if gemm:
                inputs[source] = (values["M"], values["K"])
                layers.append(Gemm(name=name, inputs=(source,), out_features=values["N"]))
            else:
                inputs[source] = (values["Channels"], values["IFMAP Height"], values["IFMAP Width"])
                layers.append(_conv_from_row(name, source, values))
    except InputError as err:
        raise err.located(file=file) from None
    try:
        return Network(
            name=Path(path).stem, source=f"SCALE-Sim topology {Path(path).name}", inputs=inputs,
            layers=tuple(layers), datatype_bits=datatype_bits,
        )
    except InputError as err:
        raise err.located(file=file) from None


def _conv_from_row(name: str, source: str, v: dict[str, int]) -> Conv2d:
    h, w, r, s, c, f = (v[k] for k in CONV_HEADER[1:7])
    sh = v["Strides"]
    sw = v.get("Stride width", sh)
    if r > h or s > w:
        raise InputError(f"filter {r}x{s} is larger than the {h}x{w} ifmap", layer=name, field="Filter Height",
                         value=r)
    # SCALE-Sim's ceil((H - R + S) / S) counts a partial last window; the padding makes it whole.
    pad_bottom = -(h - r) % sh
    pad_right = -(w - s) % sw
    depthwise = "DP" in name
    return Conv2d(
        name=name, inputs=(source,), out_channels=c * f if depthwise else f, kernel=(r, s), stride=(sh, sw),
        padding=(0, pad_bottom, 0, pad_right), groups=c if depthwise else 1,
    )


@dataclass(frozen=True)
class Export:
    """What :func:`write_topology` wrote: the CSV text and the memory-only layers it left out."""

    text: str
    rows: int
    left_out: tuple[str, ...]


def write_topology(network: Network, path: str | Path | None = None, *, fmt: str = "conv") -> Export:
    """Write ``network``'s compute layers as a SCALE-Sim topology (``fmt`` ``"conv"`` or ``"gemm"``)."""
    if fmt not in ("conv", "gemm"):
        raise InputError("expected 'conv' or 'gemm'", field="format", value=fmt)
    if network.batch != 1:
        raise InputError("SCALE-Sim topologies describe batch 1; export a batch-1 network", field="batch",
                         value=network.batch)
    out: list[list[object]] = [CONV_HEADER[:-1] + ["Stride Height", "Stride Width"] if fmt == "conv" else GEMM_HEADER]
    left_out = []
    for stats in network:
        layer = network.layer(stats.name)
        if stats.gemm is None:
            left_out.append(stats.name)
            continue
        if "," in layer.name:
            raise InputError("SCALE-Sim's CSV cannot hold a comma in a name", layer=layer.name, field="name",
                             value=layer.name)
        if fmt == "conv" and isinstance(layer, Conv2d):
            out.extend(_conv_rows(layer, stats.input_shapes[0], stats.output_shape))
            continue
        g = stats.gemm
        names = [layer.name] if g.repeat == 1 else [f"{layer.name}_{i}" for i in range(g.repeat)]
        for name in names:
            _check_not_depthwise_name(layer.name, name)
            out.append([name, g.m, g.k, 1, g.k, 1, g.n, 1, 1] if fmt == "conv" else [name, g.m, g.n, g.k])
    buffer = io.StringIO()
    for row in out:
        buffer.write(",".join(str(cell) for cell in row) + ",\n")  # SCALE-Sim drops the last cell
    export = Export(text=buffer.getvalue(), rows=len(out) - 1, left_out=tuple(left_out))
    if path is not None:
        Path(path).write_text(export.text)
    return export


def _conv_rows(layer: Conv2d, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[list[object]]:
    if layer.dilation != (1, 1):
        raise InputError("SCALE-Sim has no dilated convolution", layer=layer.name, field="dilation",
                         value=list(layer.dilation))
    c = in_shape[0]
    _, ho, wo = out_shape
    (r, s), (sh, sw) = layer.kernel, layer.stride
    extent_h, extent_w = (ho - 1) * sh + r, (wo - 1) * sw + s
    stride = [sh, sw]
    if layer.groups == 1:
        _check_not_depthwise_name(layer.name, layer.name)
        return [[layer.name, extent_h, extent_w, r, s, c, layer.out_channels, *stride]]
    if layer.groups == c:
        name = layer.name if "DP" in layer.name else f"{layer.name}_DP"
        return [[name, extent_h, extent_w, r, s, c, layer.out_channels // c, *stride]]
    rows = []
    for g in range(layer.groups):
        name = f"{layer.name}_g{g}"
        _check_not_depthwise_name(layer.name, name)
        rows.append([name, extent_h, extent_w, r, s, c // layer.groups, layer.out_channels // layer.groups, *stride])
    return rows


def _check_not_depthwise_name(layer: str, name: str) -> None:
    if "DP" in name:
        raise InputError("SCALE-Sim runs any layer named with 'DP' as depthwise; rename the layer", layer=layer,
                         field="name", value=name)
