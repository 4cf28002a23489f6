"""Reading a JSON file, every way that can fail turned into one :class:`InputError` line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hwsim.errors import InputError


def read_json(path: str | Path) -> Any:
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", file=str(path)) from None
