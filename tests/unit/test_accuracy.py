"""Accuracy evaluators: CSV tables, user callables, and the clearly labelled synthetic proxy."""

from __future__ import annotations

import math

import pytest

from hwsim.errors import InputError
from hwsim.explore.accuracy import (
    AccuracyEvaluator, AccuracyTable, SYNTHETIC_SOURCE, accuracy_source, callable_evaluator,
    synthetic_accuracy_proxy, synthetic_proxy_accuracy,
)
from hwsim.io.netspace_json import read_netspace
from hwsim.workload.families import resnet9

from tests.conftest import REPO

SPACES = [read_netspace(REPO / "workloads" / "spaces" / f"{name}.json")
          for name in ("resnet9_cifar10", "resnet9_stl10", "unet_nuclei")]
EXAMPLE = REPO / "examples" / "explore" / "accuracy_example.csv"

CSV = """task,channels[1],skip[0],depth,accuracy,source
cifar,64,true,,0.91,measured: 3 runs
cifar,64,False,,0.9,measured: 3 runs
cifar,128.0,true,,0.93,measured: 3 runs
nuclei,,,3,0.75,measured: 1 run
"""


def fake_accuracy(task, point):
    """A user evaluator for the callable loader: deeper is better, made up."""
    return 0.5 + 0.1 * point["depth"]


def out_of_range(task, point):
    return 93.1


@pytest.fixture
def table_file(tmp_path):
    def write(text: str):
        path = tmp_path / "acc.csv"
        path.write_text(text)
        return path
    return write


def test_a_table_looks_up_by_task_and_point(table_file):
    table = AccuracyTable.from_csv(table_file(CSV))
    assert isinstance(table, AccuracyEvaluator)
    assert table("cifar", {"channels[1]": 64, "skip[0]": True}) == 0.91
    assert table("cifar", {"skip[0]": False, "channels[1]": 64}) == 0.9
    assert table("cifar", {"channels[1]": 128, "skip[0]": True}) == 0.93
    assert table("nuclei", {"depth": 3}) == 0.75
    assert accuracy_source(table) == f"accuracy table {table.file} (measured: 3 runs; measured: 1 run)"


def test_a_missing_row_is_an_error_naming_task_and_point(table_file):
    table = AccuracyTable.from_csv(table_file(CSV))
    for task, point in [("cifar", {"channels[1]": 32, "skip[0]": True}), ("cifar", {"channels[1]": 64}),
                        ("stl10", {"depth": 3})]:
        with pytest.raises(InputError) as err:
            table(task, point)
        shown = "{" + ", ".join(f"{k}={'true' if v is True else v}" for k, v in point.items()) + "}"
        assert str(err.value) == f"{table.file}: has no row for task {task!r} at point {shown}"


@pytest.mark.parametrize("text, message", [
    ("", "is empty; expected a header with task, hyper-parameters and accuracy"),
    ("task,depth\nu,3\n", "field 'accuracy': is a required column"),
    ("task,depth,depth,accuracy\nu,3,3,0.5\n", "field 'depth': names two columns"),
    ("task,depth,accuracy\nu,3,93.1\n",
     "field 'accuracy' = '93.1': line 2: must be in [0, 1] (a fraction, not a percentage)"),
    ("task,depth,accuracy\nu,3,high\n", "field 'accuracy' = 'high': line 2: expected a number"),
    ("task,depth,accuracy\nu,3\n", "line 2 has 2 cells for 3 columns"),
    ("task,depth,accuracy\n", "has no rows"),
    ("task,depth,accuracy\nu,3,0.5\nu,3.0,0.6\n", "field 'task' = 'u': task 'u' at point {depth=3} has two rows"),
    ("task,depth,accuracy\n,3,0.5\n", "field 'task' = '': must be a non-empty task name"),
])
def test_bad_tables_fail_in_one_line(table_file, text, message):
    path = table_file(text)
    with pytest.raises(InputError) as err:
        AccuracyTable.from_csv(path)
    assert str(err.value) == f"{path}: {message}"


def test_a_missing_table_file_is_one_line(tmp_path):
    with pytest.raises(InputError) as err:
        AccuracyTable.from_csv(tmp_path / "none.csv")
    assert str(err.value) == f"{tmp_path / 'none.csv'}: cannot read: No such file or directory"


def test_callable_evaluator_loads_and_checks_its_results():
    evaluator = callable_evaluator("tests.unit.test_accuracy:fake_accuracy")
    assert isinstance(evaluator, AccuracyEvaluator)
    assert math.isclose(evaluator("unet_nuclei", {"depth": 3}), 0.8)
    assert accuracy_source(evaluator) == "callable tests.unit.test_accuracy:fake_accuracy (user-supplied accuracy " \
                                         "evaluator)"
    with pytest.raises(InputError) as err:
        callable_evaluator("tests.unit.test_accuracy:out_of_range")("t", {"depth": 3})
    assert str(err.value) == ("field 'accuracy evaluator' = 'tests.unit.test_accuracy:out_of_range': returned 93.1 "
                              "for task 't' at point {depth=3}; an accuracy must be a number in [0, 1]")


@pytest.mark.parametrize("spec, message", [
    ("fake_accuracy", "expected 'module:function'"),
    ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz': No module named 'no_such_module_xyz'"),
    ("tests.unit.test_accuracy:missing", "module 'tests.unit.test_accuracy' has no attribute 'missing'"),
    ("tests.unit.test_accuracy:CSV", "'CSV' is not callable"),
])
def test_callable_evaluator_errors(spec, message):
    with pytest.raises(InputError) as err:
        callable_evaluator(spec)
    assert str(err.value) == f"field 'accuracy evaluator' = {spec!r}: {message}"


def test_the_proxy_says_it_is_synthetic_and_is_deterministic():
    proxy = synthetic_accuracy_proxy(SPACES)
    assert accuracy_source(proxy) == SYNTHETIC_SOURCE
    assert "SYNTHETIC" in SYNTHETIC_SOURCE and "NOT a measured accuracy" in SYNTHETIC_SOURCE
    assert isinstance(proxy, AccuracyEvaluator)
    point = {"depth": 4, "base_filters": 16}
    assert proxy("unet_nuclei", point) == synthetic_accuracy_proxy(SPACES)("unet_nuclei", point) == 0.8652


def test_the_proxy_rises_with_size_and_skips_and_stays_in_range():
    reference = resnet9()
    wide, narrow = resnet9(channels=(128, 256, 512, 1024)), resnet9(channels=(32, 64, 128, 256))
    no_skips = resnet9(skip=(False, False, False))
    values = [synthetic_proxy_accuracy(net, reference) for net in (narrow, reference, wide)]
    assert values == sorted(values) and len(set(values)) == 3
    assert synthetic_proxy_accuracy(no_skips, reference) < synthetic_proxy_accuracy(reference, reference)
    table = synthetic_accuracy_proxy(SPACES).table()
    assert len(table.entries) == 128 + 128 + 16
    assert all(0.1 <= accuracy <= 0.95 for _, _, accuracy in table.entries)


def test_the_proxy_refuses_unknown_tasks_and_points():
    proxy = synthetic_accuracy_proxy(SPACES)
    with pytest.raises(InputError) as err:
        proxy("imagenet", {})
    assert str(err.value) == ("field 'task' = 'imagenet': unknown task (known: resnet9_cifar10, resnet9_stl10, "
                              "unet_nuclei)")
    with pytest.raises(InputError) as err:
        proxy("unet_nuclei", {"depth": 6, "base_filters": 16})
    assert str(err.value) == "field 'depth' = 6: is not one of the options [2, 3, 4, 5]"


def test_the_example_table_is_the_proxy_and_says_so():
    example = AccuracyTable.from_csv(EXAMPLE)
    assert "SYNTHETIC" in accuracy_source(example) and "not a measured accuracy" in accuracy_source(example)
    proxy = synthetic_accuracy_proxy(SPACES)
    assert len(example.entries) == 272
    for space in SPACES:
        for point in space.space:
            assert example(space.name, point) == proxy(space.name, point), (
                "examples/explore/accuracy_example.csv is stale: run examples/explore/make_accuracy_example.py")


def test_a_table_round_trips_through_csv(tmp_path):
    table = synthetic_accuracy_proxy(SPACES[2:]).table()
    table.to_csv(tmp_path / "t.csv", row_source="synthetic")
    again = AccuracyTable.from_csv(tmp_path / "t.csv")
    assert again.entries == table.entries
    assert again.source == f"accuracy table {tmp_path / 't.csv'} (synthetic)"
