"""The behaviour snapshot: what the commands printed as data before the stages were restructured (issue 12).

Each case is a command line whose ``--json`` (and, for the sweep, ``--out``) files were written by the code as it
stood before the restructuring. ``tests/unit/test_behaviour.py`` runs each again and compares every number: a
difference is a bug unless a later issue changes the model on purpose, and then the snapshot is regenerated with

    python -m tests.golden.behaviour [PATTERN ...]

which overwrites ``tests/golden/behaviour/`` (never edit those files by hand): every case, or those whose names
match one of the shell-style patterns (``'run_*_ws'``).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "behaviour"
REPO = HERE.parent.parent.parent

NETWORKS = ("mobilenet_v2", "resnet50", "unet_nuclei", "bert_base", "vgg16_cifar")
DATAFLOWS = ("ws", "os", "is")


def cases() -> dict[str, list[str]]:
    """Case name -> ``hwsim`` arguments; ``{out}`` stands for the case's output folder."""
    found = {}
    for net in NETWORKS:
        for df in DATAFLOWS:
            found[f"run_{net}_{df}"] = ["run", net, "--array", "32x32", "--dataflow", df]
            found[f"run_{net}_{df}_scalesim"] = ["run", net, "--array", "32x32", "--dataflow", df,
                                                 "--compat", "scalesim"]
    found["run_resnet18_cifar_sat_train"] = ["run", "resnet18_cifar", "--sat", "--train", "--sparsity", "2:8,1:4"]
    found["explore_nasaic_coexplore"] = ["explore", str(REPO / "examples" / "explore" / "nasaic_coexplore.json"),
                                         "--seed", "3"]
    found["sweep_systolic_small"] = ["sweep", str(REPO / "examples" / "sweeps" / "systolic_small.json"),
                                     "--out", "{out}/rows.csv", "--jobs", "1"]
    return found


def run_case(name: str, out: Path) -> dict:
    """Run one case through the command line's entry point; return what it wrote as data."""
    from hwsim.cli import main

    args = [a.replace("{out}", str(out)) for a in cases()[name]] + ["--json", str(out / "out.json"), "--quiet"]
    status = main(args)
    if status != 0:
        raise AssertionError(f"hwsim {' '.join(args)} exited {status}")
    result = {"json": json.loads((out / "out.json").read_text())}
    rows = out / "rows.csv"
    if rows.exists():
        with rows.open() as f:
            result["rows"] = sorted(csv.DictReader(f), key=lambda row: (row["workload"], row["id"]))
    return result


def regenerate(patterns: list[str]) -> None:
    import fnmatch
    import tempfile

    HERE.mkdir(exist_ok=True)
    for name in cases():
        if patterns and not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            data = run_case(name, Path(tmp))
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(name, file=sys.stderr)


if __name__ == "__main__":
    regenerate(sys.argv[1:])
