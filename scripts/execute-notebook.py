"""Execute one notebook top to bottom with nbconvert's ExecutePreprocessor (driven by scripts/notebooks.ts).

Writes the executed copy to DST even when a cell fails (so the failing outputs can be inspected), prints
one progress line per cell to stderr, and prints a JSON summary as the last line of stdout:
  {"ok": bool, "seconds": float, "cells": [seconds per code cell], "failed": null | {...}}
A cell fails on any kernel error; tslab reports type errors on stderr and fails the cell, so they fail too.
"""
import argparse
import json
import sys
import time

import nbformat
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--cwd", required=True, help="working directory of the kernel")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = ap.parse_args()

    nb = nbformat.read(args.src, as_version=4)
    name = args.src.rsplit("/", 1)[-1]
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = {}
    times = []
    failed = {}

    def on_cell_start(cell, cell_index, **_):
        started[cell_index] = time.monotonic()

    def on_cell_executed(cell, cell_index, **_):
        dt = time.monotonic() - started.get(cell_index, time.monotonic())
        times.append(round(dt, 3))
        k = code_cells.index(cell_index) + 1 if cell_index in code_cells else "?"
        print(f"  {name}: cell {k}/{len(code_cells)} {dt:6.1f} s", file=sys.stderr, flush=True)

    def on_cell_error(cell, cell_index, execute_reply=None, **_):
        content = (execute_reply or {}).get("content", {})
        streams = "".join(
            "".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        failed.update(
            cell=(code_cells.index(cell_index) + 1) if cell_index in code_cells else cell_index,
            source=cell.source,
            ename=content.get("ename", ""),
            evalue=content.get("evalue", ""),
            traceback=content.get("traceback", []),
            stderr=streams,
        )

    ep = ExecutePreprocessor(kernel_name=args.kernel, timeout=args.timeout, record_timing=True)
    ep.on_cell_start = on_cell_start
    ep.on_cell_executed = on_cell_executed
    ep.on_cell_error = on_cell_error
    t0 = time.monotonic()
    ok = True
    error = None
    try:
        ep.preprocess(nb, {"metadata": {"path": args.cwd}})
    except CellExecutionError:
        ok = False
    except Exception as e:  # dead kernel, timeout, missing kernel spec
        ok = False
        error = f"{type(e).__name__}: {e}"
    seconds = time.monotonic() - t0
    nbformat.write(nb, args.dst)
    summary = {"ok": ok, "seconds": round(seconds, 3), "cells": times, "failed": failed or None, "error": error}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
