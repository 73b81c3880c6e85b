"""The Yahoo Streaming Benchmark on riverbed (the same as `riverbed bench ysb`).

    .venv/bin/python benchmarks/ysb.py [--rates 5000,20000] [--duration 20] [--out DIR] [--quick]

See riverbed.apps.ysb.bench for what is measured and BENCHMARKS.md (section YSB) for results.
"""

from __future__ import annotations

import sys

from riverbed.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "ysb", *sys.argv[1:]]))
