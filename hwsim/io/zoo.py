"""Write every zoo network to ``workloads/<name>.json``: ``python -m hwsim.io.zoo [DIR]``.

The files are generated, never edited by hand; ``tests/unit/test_zoo.py`` checks they equal
what the builders produce.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hwsim.io.workload_json import dump_network
from hwsim.workload.zoo import ZOO


def main(folder: str | Path = "workloads") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, builder in ZOO.items():
        dump_network(builder(), out / f"{name}.json")
        print(out / f"{name}.json")


if __name__ == "__main__":
    main(*sys.argv[1:2])
