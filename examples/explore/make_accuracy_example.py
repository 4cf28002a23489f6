"""Write ``accuracy_example.csv``: SYNTHETIC accuracies for every network of the shipped search spaces.

The numbers come from :func:`hwsim.explore.accuracy.synthetic_accuracy_proxy`, a made-up function of
network size and skip connections: they are NOT measured accuracies. The file shows the table format
(task, the choices of the task's network space, accuracy, source) for ``AccuracyTable.from_csv``;
replace it with accuracies you measured. Run from the repository root:
``python examples/explore/make_accuracy_example.py``.
"""

from pathlib import Path

from hwsim.explore.accuracy import synthetic_accuracy_proxy
from hwsim.io.netspace_json import read_netspace

REPO = Path(__file__).resolve().parents[2]
SPACES = ("resnet9_cifar10", "resnet9_stl10", "unet_nuclei")

if __name__ == "__main__":
    spaces = [read_netspace(REPO / "workloads" / "spaces" / f"{name}.json") for name in SPACES]
    out = Path(__file__).with_name("accuracy_example.csv")
    proxy = synthetic_accuracy_proxy(spaces)
    proxy.table().to_csv(out, row_source="SYNTHETIC (synthetic_accuracy_proxy), not a measured accuracy")
    print(out)
