"""Write every zoo network to ``workloads/<name>.json``: ``python -m hwsim.workload.zoo [DIR]``.

The files are generated, never edited by hand; ``tests/unit/test_zoo.py`` checks they equal
what the builders produce.
"""

import sys
from pathlib import Path

from hwsim.io.workload_json import dump_network
from hwsim.workload.zoo import ZOO

out = Path(sys.argv[1] if len(sys.argv) > 1 else "workloads")
out.mkdir(parents=True, exist_ok=True)
for name, builder in ZOO.items():
    dump_network(builder(), out / f"{name}.json")
    print(out / f"{name}.json")
