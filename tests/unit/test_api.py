"""hwsim.api is a lazy facade and the CLI stands on it alone: a bundled ``hwsim run`` loads no heavy library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

import hwsim.api
from tests.conftest import REPO

HEAVY = ("networkx", "jsonschema", "matplotlib", "scipy", "amaranth", "cocotb")
"""Libraries a ``hwsim run`` of a bundled network has no use for; each costs about as much as NumPy to import."""


@pytest.mark.parametrize("name", hwsim.api.__all__)
def test_every_exported_name_resolves(name):
    assert getattr(hwsim.api, name) is not None
    assert name in dir(hwsim.api)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'simulat'"):
        hwsim.api.simulat  # noqa: B018


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    loaded = json.loads(out.splitlines()[-1])
    return [m for m in HEAVY if m in loaded]


def test_importing_the_api_and_the_cli_loads_nothing_heavy():
    assert _loaded_after("import hwsim.api, hwsim.cli") == []


def test_a_bundled_run_loads_nothing_heavy():
    code = "from hwsim.cli import main\nassert main(['run', 'mobilenet_v1', '--array', '8x8', '--quiet']) == 0"
    assert _loaded_after(code) == []


def test_the_cli_imports_only_the_api_and_the_standard_library():
    tree = ast.parse((REPO / "hwsim" / "cli.py").read_text())
    imported = {alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    ours = {name for name in imported if name.split(".")[0] in ("hwsim", "rtl")}
    # The two names from hwsim.api are imported for type annotations only.
    assert ours == {"hwsim.api", "hwsim.__version__", "hwsim.api.Network", "hwsim.api.SystolicArray"}
