"""Exploration spec files (``hwsim-explore``): tasks, hardware space, specs, accuracy and search settings.

Paths in the file (workloads, network spaces, accuracy tables) are relative to the file. Every key is checked; an
unknown or bad one is an :class:`InputError` naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.explore.coexplore import ExploreSpec, HardwareSpace, SearchSettings, Task
from hwsim.io.checks import keys, string, whole
from hwsim.io.document import read_document
from hwsim.arch.heterogeneous import Specs

FORMAT = "hwsim-explore"
_TOP = ("format", "version", "name", "tasks", "hardware", "specs", "search", "cost", "tech", "accuracy")
_HARDWARE = ("sub_accelerators", "templates", "pe_choices", "bandwidth_choices", "pe_budget", "bandwidth_budget_gbps",
             "l1_bytes", "l2_kib", "precision", "clock_mhz")
_SEARCH = ("method", "seed", "exhaustive_limit", "population", "generations", "episodes", "batch")


def read_explore_spec(path: str | Path) -> ExploreSpec:
    return explore_spec_from_dict(read_document(path, expect=FORMAT).body, base=Path(path).resolve().parent,
                                  file=str(path))


def explore_spec_from_dict(doc: Any, *, base: Path, file: str | None = None) -> ExploreSpec:
    document = read_document(doc, expect=FORMAT, file=file)
    with document.located():
        return _explore_spec(document.body, base)


def _explore_spec(doc: Any, base: Path) -> ExploreSpec:
    from hwsim.io.load import load_workload
    from hwsim.io.netspace_json import read_netspace

    def fail(problem: str, key: str, value: object = None) -> InputError:
        return InputError(problem, field=key, value=value)

    keys(doc, _TOP, required=("name", "tasks", "hardware", "specs"))

    def path(value: str) -> str:
        return str(base / value) if not Path(value).is_absolute() else value

    tasks = []
    if not isinstance(doc["tasks"], list) or not doc["tasks"]:
        raise fail("must be a non-empty list", "tasks", doc["tasks"])
    for i, entry in enumerate(doc["tasks"]):
        keys(entry, ("name", "network", "space"), field=f"tasks[{i}]")
        name = string(entry.get("name"), f"tasks[{i}].name")
        if ("network" in entry) == ("space" in entry):
            raise fail("needs exactly one of 'network' (a workload) and 'space' (a network search space)",
                       f"tasks[{i}]", name)
        if "network" in entry:
            ref = entry["network"]
            network = load_workload(path(ref) if str(ref).endswith(".json") else ref)
            tasks.append(Task(name, network=network))
        else:
            tasks.append(Task(name, space=read_netspace(path(entry["space"]))))

    hw = keys(doc["hardware"], _HARDWARE, field="hardware", required=("sub_accelerators", "templates"))
    for key in ("templates", "pe_choices", "bandwidth_choices"):
        if key in hw and not isinstance(hw[key], list):
            raise fail("must be a list", f"hardware.{key}", hw[key])
    templates = tuple(path(t) if str(t).endswith(".json") else t for t in hw["templates"])
    hardware = HardwareSpace(
        sub_accelerators=hw["sub_accelerators"], templates=templates,
        pe_choices=tuple(hw.get("pe_choices", ())), bandwidth_choices=tuple(hw.get("bandwidth_choices", ())),
        **{k: hw[k] for k in ("pe_budget", "bandwidth_budget_gbps", "l1_bytes", "l2_kib", "precision", "clock_mhz")
           if k in hw},
    )
    specs = keys(doc["specs"], ("latency_cycles", "energy_nj", "area_um2"), field="specs")
    search = keys(doc.get("search", {}), _SEARCH, field="search")
    for key, value in search.items():
        if key != "method":
            whole(value, f"search.{key}", minimum=0)

    accuracy, source = None, "none"
    if "accuracy" in doc:
        accuracy, source = _accuracy(keys(doc["accuracy"], ("table", "callable", "synthetic_proxy"), field="accuracy"),
                                     path, fail, tasks)
    return ExploreSpec(
        name=str(doc["name"]), tasks=tuple(tasks), hardware=hardware, specs=Specs(**specs),
        search=SearchSettings(**search), cost=doc.get("cost", "hwsim"), tech=doc.get("tech", "28nm"),
        accuracy=accuracy, accuracy_source=source,
    )


def _accuracy(entry: dict[str, Any], path, fail, tasks):
    from hwsim.explore import accuracy

    if len(entry) != 1:
        raise fail("needs exactly one of 'table', 'callable' and 'synthetic_proxy'", "accuracy", sorted(entry))
    (kind, value), = entry.items()
    if kind == "table":
        return accuracy.AccuracyTable.from_csv(path(value)), f"measured accuracies from {value}"
    if kind == "callable":
        return accuracy.callable_evaluator(value), f"the callable {value}"
    if value is not True:
        raise fail("must be true (the synthetic proxy is the only option with no data)", "accuracy.synthetic_proxy",
                   value)
    proxy = accuracy.synthetic_accuracy_proxy([t.space for t in tasks if t.space is not None])
    return proxy, proxy.source
