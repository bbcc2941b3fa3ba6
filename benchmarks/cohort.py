"""Cohort summary over a large diary: DuckDB against pandas, in one run on one machine.

Generates N synthetic diary rows (default 100 million) as Parquet in the export's layout,
then computes the same cohort summary (`ldnkit.analytics.cohort`, the VA figures plus
responder rates) with DuckDB and with the pandas reference implementation. Each measurement
runs in a fresh child process, so its peak memory (max RSS from wait4) is its own.

pandas must hold the table in memory, so it is measured on growing prefixes of the data
(whole files); before each step its peak is extrapolated linearly from the previous step and
the step is skipped if that would exceed the memory budget (a fraction of the memory available
when the run starts). A watchdog also kills a child whose RSS crosses the budget. The report
says where pandas stopped. Both engines must agree on every figure at every size measured.

    .venv/bin/python benchmarks/cohort.py [--rows 100000000] [--memory-fraction 0.5]

Temporary files are removed at the end (use --keep DIR to keep the Parquet).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GIB = 1024**3
DEFAULT_ROWS = 100_000_000
ROWS_PER_FILE = 5_000_000
LADDER = (5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000)
TARGET_SPEEDUP = 5.0


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# -- child: one measurement --------------------------------------------------------------------
def _child(engine: str, files: list[str]) -> None:
    import datetime as dt

    from ldnkit.analytics.cohort import cohort_summary
    from ldnkit.analytics.reference import cohort_summary_pandas
    from ldnkit.analytics.synthetic import AS_OF

    t0 = time.perf_counter()
    if engine == "duckdb":
        summary = cohort_summary(files, as_of=AS_OF)
    elif engine == "pandas":
        summary = cohort_summary_pandas(files, as_of=AS_OF)
    else:  # "noop": the interpreter plus both libraries, imported; the floor under both
        import duckdb  # noqa: F401
        import pandas  # noqa: F401

        summary = None
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "summary": summary.to_dict() if summary else None}
    print(json.dumps(out, default=lambda o: o.isoformat() if isinstance(o, dt.date) else str(o)))


def _measure_peak(engine: str, files: list[Path], kill_above: int | None) -> dict:
    """Run one measurement in a child; its own peak RSS comes from wait4's rusage."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    with (
        tempfile.NamedTemporaryFile("w", suffix=".txt") as listing,
        tempfile.TemporaryFile("w+") as out_file,
        tempfile.TemporaryFile("w+") as err_file,
    ):
        listing.write("\n".join(str(f) for f in files))
        listing.flush()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", engine, "--files-from", listing.name],
            stdout=out_file,
            stderr=err_file,
            env=env,
            text=True,
        )
        killed: list[int] = []
        done = threading.Event()

        def watchdog() -> None:
            while not done.is_set():
                rss = _rss(proc.pid)
                if kill_above and rss > kill_above:
                    killed.append(rss)
                    proc.kill()
                    return
                time.sleep(0.05)

        w = threading.Thread(target=watchdog, daemon=True)
        w.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        w.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read(), err_file.read()
    result: dict = {"engine": engine, "peak_rss": usage.ru_maxrss * 1024}
    if killed:
        result["killed_at"] = killed[0]
        return result
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} child failed ({proc.returncode}): {stderr[-2000:]}")
    result.update(json.loads(stdout.strip().splitlines()[-1]))
    return result


def _agree(a: dict, b: dict) -> list[str]:
    """Fields on which two summaries differ beyond float rounding."""
    bad = []
    for key, va in a.items():
        vb = b[key]
        if isinstance(va, float) and isinstance(vb, float):
            if abs(va - vb) > 1e-9 * max(1.0, abs(va)):
                bad.append(key)
        elif va != vb:
            bad.append(key)
    return bad


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="synthetic diary rows")
    ap.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE)
    ap.add_argument(
        "--memory-fraction",
        type=float,
        default=0.5,
        help="pandas budget: this share of MemAvailable at start (default 0.5)",
    )
    ap.add_argument("--workdir", type=Path, default=None, help="where to write the Parquet")
    ap.add_argument("--keep", action="store_true", help="keep the generated Parquet files")
    ap.add_argument("--child", choices=["duckdb", "pandas", "noop"], help=argparse.SUPPRESS)
    ap.add_argument("--files-from", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        _child(args.child, args.files_from.read_text().split("\n"))
        return 0

    from ldnkit.analytics.synthetic import write_synthetic_diary

    rows, per_file = args.rows, args.rows_per_file
    budget = int(_mem_available() * args.memory_fraction)
    workdir = Path(tempfile.mkdtemp(prefix="ldnkit-cohort-bench-", dir=args.workdir))
    free = shutil.disk_usage(workdir).free
    need = rows * 8  # the Parquet takes ~5 bytes/row; leave room
    if free < need:
        print(f"refusing: {_gib(free)} free in {workdir}, need about {_gib(need)}")
        return 1
    print(f"Cohort benchmark: {rows:,} synthetic diary rows, {os.cpu_count()} CPU cores, "
          f"{_gib(_mem_available())} memory available, pandas budget {_gib(budget)}, "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews timings)")  # fmt: skip
    try:
        t0 = time.perf_counter()
        files = write_synthetic_diary(workdir / "diary", rows, rows_per_file=per_file)
        gen_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in files)
        print(f"Generated {len(files)} Parquet files, {_gib(size)}, in {gen_s:.1f} s")

        floor = _measure_peak("noop", [], None)["peak_rss"]
        print(f"Child process floor (python + duckdb + pandas imported): {_gib(floor)} RSS\n")

        sizes = sorted({s for s in LADDER if s < rows} | {rows})
        header = f"{'rows':>13} {'engine':>7} {'seconds':>9} {'peak RSS':>10} {'rows/s':>13}"
        print(header)
        print("-" * len(header))
        results: list[tuple[int, dict, dict | None]] = []
        pandas_stop: str | None = None
        last_pandas: tuple[int, int] | None = None
        for n in sizes:
            k = (n + per_file - 1) // per_file
            subset = files[:k]
            n_rows = min(rows, k * per_file)
            duck = _measure_peak("duckdb", subset, None)
            print(f"{n_rows:>13,} {'duckdb':>7} {duck['seconds']:>9.2f} "
                  f"{_gib(duck['peak_rss']):>10} {n_rows / duck['seconds']:>13,.0f}")  # fmt: skip
            pand = None
            if pandas_stop is None:
                predicted = last_pandas[1] * n_rows / last_pandas[0] if last_pandas else 0
                if predicted > budget:
                    pandas_stop = (
                        f"pandas not run at {n_rows:,} rows: predicted peak "
                        f"{_gib(predicted)} exceeds the {_gib(budget)} budget "
                        f"(linear from {_gib(last_pandas[1])} at {last_pandas[0]:,} rows)"
                    )
                else:
                    pand = _measure_peak("pandas", subset, budget)
                    if "killed_at" in pand:
                        pandas_stop = (
                            f"pandas killed at {n_rows:,} rows: RSS reached "
                            f"{_gib(pand['killed_at'])} (budget {_gib(budget)})"
                        )
                        pand = None
                    else:
                        last_pandas = (n_rows, pand["peak_rss"])
                        print(f"{n_rows:>13,} {'pandas':>7} {pand['seconds']:>9.2f} "
                              f"{_gib(pand['peak_rss']):>10} "
                              f"{n_rows / pand['seconds']:>13,.0f}")  # fmt: skip
                        diff = _agree(duck["summary"], pand["summary"])
                        if diff:
                            raise SystemExit(f"DuckDB and pandas disagree at {n_rows}: {diff}")
            results.append((n_rows, duck, pand))
        print()
        print("Ratios (same rows, same machine, same run); results identical where both ran:")
        for n_rows, duck, pand in results:
            if pand is None:
                continue
            speed = pand["seconds"] / duck["seconds"]
            mem = duck["peak_rss"] / pand["peak_rss"]
            print(f"  {n_rows:>13,} rows: DuckDB {speed:5.1f}x faster, peak memory "
                  f"{mem:.2f}x of pandas ({_gib(duck['peak_rss'])} vs "
                  f"{_gib(pand['peak_rss'])})  [target >= {TARGET_SPEEDUP:g}x: "
                  f"{'met' if speed >= TARGET_SPEEDUP else 'NOT met'}]")  # fmt: skip
        if pandas_stop:
            print(f"  {pandas_stop}")
        else:
            print(f"  pandas held all {rows:,} rows within the {_gib(budget)} budget")
        full = results[-1][1]["summary"]
        print("\nCohort summary at full size (DuckDB):")
        for key, value in full.items():
            print(f"  {key}: {value:,.3f}" if isinstance(value, float) else f"  {key}: {value}")
        print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep:
            print(f"\nKept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
