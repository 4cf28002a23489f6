"""The streamed results file: a CSV that grows a chunk of rows at a time and survives being killed.

* The header is written first; then each finished chunk's rows are encoded together and appended with one
  ``write`` call, then ``fsync``: after a kill (SIGKILL, Ctrl-C, a power cut) the file holds whole chunks, at
  worst followed by one partial line, which resuming drops.
* Resuming reads the file, checks its header against the sweep's columns (another sweep's results are an error,
  not something to append to), and returns the finished rows by id; new rows are appended after them.
* Without resuming, an existing file is an error: results are never overwritten.
* The file is locked (``flock``) while a sweep writes it, so two sweeps cannot interleave rows in one file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from hwsim.errors import InputError

TEXT_COLUMNS = frozenset({"id", "workload", "array", "dataflow", "precision", "tech", "sparsity", "scheme", "Error"})
BOOL_COLUMNS = frozenset({"train"})
_INT = re.compile(r"-?\d+")


def encode_rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text of ``rows``, one ``\\n``-terminated line each; empty cells for ``None``. Floats are written with
    ``repr``, so they read back exactly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


def decode_value(column: str, text: str) -> Any:
    """A cell read back: ``None`` for empty, text columns as text, ``train`` as a bool, numbers as int or float."""
    if text == "":
        return None
    if column in TEXT_COLUMNS:
        return text
    if column in BOOL_COLUMNS:
        if text not in ("True", "False"):
            raise ValueError(f"{column} = {text!r} is not True or False")
        return text == "True"
    return int(text) if _INT.fullmatch(text) else float(text)


class ResultsFile:
    """A sweep's results CSV, opened for appending.

    Parameters
    ----------
    path
        The ``.csv`` file.
    columns
        The sweep's columns (:meth:`hwsim.sweep.spec.SweepSpec.columns`).
    resume
        Continue an existing file (its finished rows are in :attr:`rows`); without it an existing file is an error.

    Attributes
    ----------
    rows
        Finished rows read from the file, by id, in file order (empty for a new file).
    dropped_partial
        Whether resuming dropped a partial last line (a row cut off by a kill).
    """

    def __init__(self, path: str | Path, columns: Sequence[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.rows: dict[str, dict[str, Any]] = {}
        self.dropped_partial = False
        if self.path.suffix.lower() != ".csv":
            raise InputError("results are written as CSV: give a .csv file (Parquet would need pyarrow, which hwsim "
                             "does not depend on)", field="out", value=str(path))
        self._created = not self.path.exists()
        self._appended = False
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | (0 if resume else os.O_EXCL)
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except FileExistsError:
            raise InputError("already exists; resume it (--resume, resume=True) or choose another file: results are "
                             "never overwritten", field="out", value=str(path)) from None
        except OSError as err:
            raise InputError(f"cannot open: {err.strerror}", field="out", value=str(path)) from None
        try:
            self._lock()
            self._read_existing()
        except BaseException:
            os.close(self._fd)
            raise

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory lock
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError("is being written by another sweep", field="out", value=str(self.path)) from None

    def _read_existing(self) -> None:
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        keep = data.rfind(b"\n") + 1
        if keep < len(data):  # a line cut off by a kill: it was never a whole row
            self.dropped_partial = True
            os.ftruncate(self._fd, keep)
            data = data[:keep]
        if not data:
            self._write(encode_rows([dict(zip(self.columns, self.columns))], self.columns))
            return
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError("is not a sweep's results CSV (not UTF-8 text)", field="out",
                             value=str(self.path)) from None
        records = list(csv.reader(lines))
        header = tuple(records[0])
        if header != self.columns:
            raise InputError("holds other results: its columns differ from this sweep's "
                             f"({_difference(header, self.columns)})", field="out", value=str(self.path))
        for number, record in enumerate(records[1:], start=2):
            if len(record) != len(self.columns):
                raise InputError(f"line {number} has {len(record)} fields where the header has {len(self.columns)}",
                                 field="out", value=str(self.path))
            try:
                row = {c: decode_value(c, v) for c, v in zip(self.columns, record)}
            except ValueError as err:
                raise InputError(f"line {number}: {err}", field="out", value=str(self.path)) from None
            self.rows.setdefault(row["id"], row)

    def append(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` with one write and make them durable before returning."""
        if rows:
            self._write(encode_rows(rows, self.columns))
            self._appended = True

    def fileno(self) -> int:
        return self._fd

    def ids(self) -> set[str]:
        """The ids of the whole rows in the file now (what a Ctrl-C, arriving anywhere, has left there)."""
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0)
        lines = data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()[1:]
        return {record[0] for record in csv.reader(lines) if record}

    def discard_if_unused(self) -> None:
        """Remove the file if this object created it and wrote no row: a sweep that failed before its first row
        leaves the folder as it found it (and can be run again without --resume)."""
        if self._created and not self._appended:
            self.path.unlink(missing_ok=True)
            self._created = False

    def _write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:  # a regular file takes it in one call; the loop is for the exceptions (a full disk)
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> "ResultsFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _difference(found: Sequence[str], expected: Sequence[str]) -> str:
    for i, (a, b) in enumerate(zip(found, expected)):
        if a != b:
            return f"column {i + 1} is {a!r}, expected {b!r}"
    return f"{len(found)} columns, expected {len(expected)}"
