"""The national-scale benchmark (`make bench`): the full pipeline against a pandas baseline and the
DuckDB floor on the same national sources, plus the code location's load time, a demo-profile
`make run`, and the daily runs after it. Prints one table, writes bench/results/<date>.json and
.md, and puts the table in bench/README.md.

Usage: python bench/run.py [--work bench/work] [--skip-generate] [--only pipeline,floor,...]

Every part runs as a child process; wall time is taken here. This process is a child subreaper
(prctl), so that the processes a run leaves orphaned (Dagster's forkserver, whose children are
the steps) come back to it to be reaped: CPU time and the largest single process (ru_maxrss) are
then summed from os.wait4 over the whole tree. The peak of the tree's summed RSS and PSS comes
from sampling /proc every 0.2 s (forked Dagster steps share pages: the RSS sum counts them twice,
PSS once). The load average is recorded with every measurement: the
machine is shared, and timings taken under load are inflated.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BOUNDARIES = ROOT / "reference" / "boundaries" / "subdistricts.geojson"
PY = sys.executable
PAGE = os.sysconf("SC_PAGE_SIZE")
TOLERANCE = 1e-6
TARGETS = {"pipeline_over_floor_max": 1.5, "baseline_over_pipeline_min": 5.0,
           "pipeline_peak_mb_max": 2048, "incremental_share_max": 0.25, "definitions_s_max": 5.0}
PARTS = ("definitions", "floor", "baseline", "pipeline", "daily", "demo")


# -- measuring a child process ---------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree_memory(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes of all the descendants of a process."""
    tree, rss, pss = _children(), 0, 0
    todo = list(tree.get(root, ()))
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, ()))
        try:
            with open(f"/proc/{p}/statm") as fh:
                rss += int(fh.read().split()[1]) * PAGE
            with open(f"/proc/{p}/smaps_rollup") as fh:
                pss += next(int(line.split()[1]) * 1024 for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return rss, pss


def measure(label: str, cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run a command to the end; wall, CPU and memory of its process tree."""
    load_before = os.getloadavg()
    out = open(log, "w") if log else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                            stderr=subprocess.STDOUT)
    peak = {"rss": 0, "pss": 0}
    done = threading.Event()

    def sample():
        # From this process down: orphans of the run are re-parented here (subreaper).
        while not done.is_set():
            rss, pss = _tree_memory(os.getpid())
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    cpu, maxrss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    # Reap what the run left behind (a forkserver exits once its parent has gone).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            pid, _, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.1)
            continue
        cpu += ru.ru_utime + ru.ru_stime
        maxrss = max(maxrss, ru.ru_maxrss)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log:
        out.close()
    result = {
        "label": label, "command": " ".join(str(c) for c in cmd), "exit_code": proc.returncode,
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "max_process_rss_mb": round(maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak["rss"] / 2**20, 1),
        "peak_tree_pss_mb": round(peak["pss"] / 2**20, 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "log": str(log) if log else None,
    }
    print(f"  {label}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, peak "
          f"{result['peak_tree_pss_mb']:.0f} MB PSS / {result['max_process_rss_mb']:.0f} MB largest "
          f"process, exit {proc.returncode}, load {load_before[0]:.1f}", flush=True)
    if proc.returncode != 0:
        print(f"    FAILED: see {log}", flush=True)
    return result


# -- the machine -----------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    versions = {}
    for pkg in ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "pandas", "pandera",
                "pyarrow"):
        try:
            from importlib.metadata import version
            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 (a missing package is just not listed)
            pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 2**20, 1),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "packages": versions, "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


# -- the pipeline ------------------------------------------------------------------------------------

def pipeline_env(work: Path, sources: Path) -> dict:
    """The CODI_* variables of orchestration/settings.py and a DAGSTER_HOME of its own."""
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return {"DAGSTER_HOME": str(home), "CODI_SOURCES_DIR": str(sources),
            "CODI_GROUND_TRUTH_DIR": str(sources.parent / "ground_truth"),
            "CODI_LAKE_DIR": str(work / "lake"), "CODI_WAREHOUSE": str(work / "warehouse" / "codi.duckdb"),
            "CODI_PUBLISH_DIR": str(work / "published"), "CODI_ALERT_LOG": str(work / "alerts.log")}


def fresh(work: Path) -> None:
    for name in ("lake", "warehouse", "published", "dagster_home", "alerts.log", ".source_hashes.json"):
        path = work / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


# The reconciliation checks belong to ingestion (they run in the ingest run, beside the loads);
# "checks" are the Great Expectations suites on the marts (dbt's tests run inside dbt build).
STAGE_OF = (("codi_dbt_models", "dbt"), ("great_expectations", "checks"), ("published", "publish"),
            ("lake__", "ingestion"))


def stage_of(step: str) -> str:
    return next((stage for part, stage in STAGE_OF if part in step), "other")


def run_stages(env: dict, since: float) -> dict:
    """Per stage of the runs created since `since` (`make run` is an ingest run, then a build
    run): the steps' summed duration, and the span from the stage's first step start to its
    last step end (steps run two at a time)."""
    code = r"""
import json, sys, dagster as dg
since = float(sys.argv[1])
with dg.DagsterInstance.get() as instance:
    runs = [r for r in reversed(instance.get_run_records()) if r.create_timestamp.timestamp() >= since]
    steps = {}
    for record in runs:
        run = record.dagster_run
        for e in instance.all_logs(run.run_id):
            ev = e.dagster_event
            if ev is None or ev.step_key is None:
                continue
            s = steps.setdefault(f"{run.job_name}:{run.run_id[:8]}:{ev.step_key}", {})
            if ev.event_type_value == "STEP_START":
                s["start"] = e.timestamp
            elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                s["end"], s["status"] = e.timestamp, ev.event_type_value
    print(json.dumps({"runs": [{"run_id": r.dagster_run.run_id, "job": r.dagster_run.job_name,
                                "status": str(r.dagster_run.status)} for r in runs],
                      "steps": steps}))
"""
    out = subprocess.run([PY, "-c", code, str(since)], cwd=ROOT, env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    stages: dict[str, dict] = {}
    for key, s in data["steps"].items():
        if "start" not in s or "end" not in s:
            continue
        st = stages.setdefault(stage_of(key), {"steps": 0, "busy_s": 0.0, "first": s["start"], "last": s["end"]})
        st["steps"] += 1
        st["busy_s"] += s["end"] - s["start"]
        st["first"], st["last"] = min(st["first"], s["start"]), max(st["last"], s["end"])
    ordered = {}
    for name in ("ingestion", "dbt", "checks", "publish", "other"):
        if name in stages:
            st = stages[name]
            ordered[name] = {"steps": st["steps"], "busy_s": round(st["busy_s"], 1),
                             "span_s": round(st["last"] - st["first"], 1)}
    slowest = sorted(((s["end"] - s["start"], k) for k, s in data["steps"].items()
                      if "start" in s and "end" in s), reverse=True)[:8]
    failed = sorted(k for k, s in data["steps"].items() if s.get("status") == "STEP_FAILURE")
    # Each run's span, first step start to last step end: the rest of the wall time is starting
    # processes, the forkserver, deciding what changed, and the summary.
    for run in data["runs"]:
        times = [(s["start"], s["end"]) for k, s in data["steps"].items()
                 if k.startswith(f"{run['job']}:{run['run_id'][:8]}:") and "start" in s and "end" in s]
        run["steps_span_s"] = round(max(e for _, e in times) - min(b for b, _ in times), 1) if times else 0.0
    return {"runs": data["runs"], "stages": ordered, "failed_steps": failed,
            "slowest_steps": [{"step": k, "seconds": round(d, 1)} for d, k in slowest]}


def pipeline_actuals(warehouse: Path) -> dict[tuple[str, int], float | None] | None:
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("""select kpi_id, fiscal_year, actual from marts.mart_kpi
                                  where area_level = 'country' order by all""").fetchall()
    except duckdb.Error as exc:   # a failed run: say so, and go on measuring the rest
        print(f"  no mart_kpi in {warehouse}: {exc}", flush=True)
        return None
    return {(k, int(y)): a for k, y, a in rows}


def compare(results: dict[str, dict]) -> list[str]:
    """The cells where the baseline or the floor differs from the pipeline (empty: all agree)."""
    ref = results["pipeline"]
    problems = []
    for name in ("baseline", "floor"):
        other = results.get(name)
        if other is None:
            continue
        for cell in sorted(set(ref) | set(other)):
            a, b = ref.get(cell), other.get(cell)
            if (a is None) != (b is None) or (a is not None and abs(a - b) > TOLERANCE):
                problems.append(f"{cell[0]} FY{cell[1]}: pipeline {a}, {name} {b}")
    return problems


# -- the report ------------------------------------------------------------------------------------

def fmt_s(x):
    return "-" if x is None else f"{x:,.1f}"


def table(res: dict) -> str:
    lines = ["| run | wall s | CPU s | peak tree PSS MB | peak tree RSS MB | largest process MB | load avg (1 min) before |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in ("pipeline", "baseline", "floor", "daily_no_change", "daily_one_source", "demo_run"):
        m = res.get("runs", {}).get(key)
        if not m:
            continue
        lines.append(f"| {m['label']} | {fmt_s(m['wall_s'])} | {fmt_s(m['cpu_s'])} | "
                     f"{m['peak_tree_pss_mb']:,.0f} | {m['peak_tree_rss_mb']:,.0f} | "
                     f"{m['max_process_rss_mb']:,.0f} | {m['loadavg_before'][0]:.2f} |")
    d = res.get("definitions")
    if d:
        lines.append(f"| load the Dagster definitions (median of {len(d['seconds'])}) | "
                     f"{d['median_s']:.2f} | {fmt_s(d.get('median_cpu_s'))} | | | | {d['loadavg'][0]:.2f} |")
    out = ["\n".join(lines)]
    stages = []
    for key, what in (("pipeline", "pipeline (Dagster event log)"),
                      ("daily_one_source", "daily run after --advance-days 1"),
                      ("baseline", "baseline"), ("floor", "floor")):
        st = res.get("stages", {}).get(key)
        if not st:
            continue
        for name, s in st.items():
            if key in ("pipeline", "daily_one_source"):
                stages.append(f"| {what} | {name} | {s['span_s']:,.1f} | {s['busy_s']:,.1f} (steps' sum, {s['steps']} steps) |")
            else:
                stages.append(f"| {what} | {name} | {s['wall_s']:,.1f} | {s['cpu_s']:,.1f} (CPU) |")
    for key, what in (("pipeline_runs", "pipeline"), ("daily_runs", "daily run after --advance-days 1")):
        runs = res.get(key, {}).get("runs", [])
        wall = res.get("runs", {}).get("pipeline" if key == "pipeline_runs" else "daily_one_source", {}).get("wall_s")
        for run in runs:
            stages.append(f"| {what} | `{run['job']}` run, first step start to last step end | "
                          f"{run['steps_span_s']:,.1f} | |")
        if runs and wall:
            outside = wall - sum(r["steps_span_s"] for r in runs)
            stages.append(f"| {what} | outside the runs' steps (process and forkserver start, "
                          f"change detection, summary) | {outside:,.1f} | |")
    if stages:
        out.append("| measured | stage | wall s | busy s |\n| --- | --- | ---: | ---: |\n" + "\n".join(stages))
    r = res.get("ratios", {})
    summary = []
    if "pipeline_over_floor" in r:
        summary.append(f"- pipeline / floor: **{r['pipeline_over_floor']:.2f}** wall, "
                       f"{r['pipeline_over_floor_cpu']:.2f} CPU (target at most {TARGETS['pipeline_over_floor_max']})")
    if "baseline_over_pipeline" in r:
        summary.append(f"- baseline / pipeline: **{r['baseline_over_pipeline']:.2f}** wall, "
                       f"{r['baseline_over_pipeline_cpu']:.2f} CPU (target at least {TARGETS['baseline_over_pipeline_min']})")
    if "pipeline_peak_mb" in r:
        summary.append(f"- pipeline peak memory (tree PSS): **{r['pipeline_peak_mb']:,.0f} MB** "
                       f"(target under {TARGETS['pipeline_peak_mb_max']:,} MB)")
    if "daily_one_source_share" in r:
        summary.append(f"- daily run after `--advance-days 1` / full run: **{r['daily_one_source_share']:.2f}** wall, "
                       f"{r['daily_one_source_share_cpu']:.2f} CPU; with no source changed: "
                       f"{r.get('daily_no_change_share', float('nan')):.2f} wall "
                       f"(target under {TARGETS['incremental_share_max']})")
    if d:
        summary.append(f"- loading the Dagster definitions: **{d['median_s']:.2f} s** wall, "
                       f"{fmt_s(d.get('median_cpu_s'))} s CPU (target under {TARGETS['definitions_s_max']} s)")
    if "agreement" in res:
        summary.append(f"- mart_kpi actuals (country, {res['agreement']['cells']} cells): "
                       f"**{res['agreement']['verdict']}**")
    out.append("\n".join(summary))
    return "\n\n".join(out)


def machine_line(m: dict) -> str:
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']}; "
            + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
            + f"; load average at start {m['loadavg_at_start']}")


def write_readme(markdown: str) -> None:
    path = BENCH / "README.md"
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + markdown + "\n" + end + rest.split(end, 1)[1]
        path.write_text(text, encoding="utf-8")


# -- main ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=BENCH / "work")
    parser.add_argument("--skip-generate", action="store_true", help="use the sources in <work>/sources as they are")
    parser.add_argument("--only", default=",".join(PARTS), help=f"a subset of {','.join(PARTS)}")
    args = parser.parse_args(argv)
    # PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented here, so their CPU is counted.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    work = args.work.resolve()
    only = set(args.only.split(","))
    sources = work / "sources"
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    res: dict = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                 "machine": machine(), "runs": {}, "stages": {}, "ratios": {}}
    print(f"Machine: {machine_line(res['machine'])}", flush=True)
    help_text = subprocess.run([PY, "-m", "ingestion.demo", "--help"], cwd=ROOT, capture_output=True,
                               text=True).stdout
    res["advance_days"] = "--advance-days" in help_text

    if not args.skip_generate and not (sources / "welfare" / "members").is_dir():
        print("Generating the national sources (about 90 s) ...", flush=True)
        res["runs"]["generate"] = measure(
            "generate the national sources", [PY, "-m", "ingestion.demo", "--profile", "national",
                                              "--out", str(sources), "--truth", str(work / "ground_truth")],
            log=logs / "generate.log")

    if "definitions" in only:
        print("Loading the Dagster definitions, 3 fresh processes:", flush=True)
        # CPU time beside wall time: under load the wall time is mostly waiting for a core.
        code = ("import time; t=time.time(); c=time.process_time(); import orchestration.definitions; "
                "print(time.time()-t, time.process_time()-c)")
        seconds, cpu = [], []
        load = os.getloadavg()
        for _ in range(3):
            out = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            wall_s, cpu_s = out.stdout.strip().splitlines()[-1].split()
            seconds.append(round(float(wall_s), 2))
            cpu.append(round(float(cpu_s), 2))
        res["definitions"] = {"seconds": seconds, "median_s": statistics.median(seconds),
                              "cpu_seconds": cpu, "median_cpu_s": statistics.median(cpu),
                              "loadavg": [round(x, 2) for x in load]}
        print(f"  {seconds} s, median {statistics.median(seconds):.2f} s (CPU median "
              f"{statistics.median(cpu):.2f} s)", flush=True)

    # The three read a copy of the generated sources, which the daily run then advances by a day:
    # bench/work/sources stays as generated for the next benchmark.
    run_sources = work / "national" / "sources"
    if only & {"floor", "baseline", "pipeline"}:
        for name in ("sources", "ground_truth"):
            shutil.rmtree(work / "national" / name, ignore_errors=True)
            shutil.copytree(work / name, work / "national" / name)

    actuals: dict[str, dict] = {}
    if "floor" in only:
        print("The floor (bench/floor.sql):", flush=True)
        out = work / "floor.json"
        res["runs"]["floor"] = measure("floor: DuckDB SQL (bench/floor.sql)", [
            PY, str(BENCH / "floor.py"), "--sources", str(run_sources), "--boundaries", str(BOUNDARIES),
            "--tmp", str(work / "floor_tmp"), "--out", str(out)], log=logs / "floor.log")
        if out.exists() and res["runs"]["floor"]["exit_code"] == 0:
            data = json.loads(out.read_text())
            res["stages"]["floor"] = data["stages"]
            actuals["floor"] = {(a["kpi_id"], a["fiscal_year"]): a["actual"] for a in data["actuals"]}

    if "baseline" in only:
        print("The pandas baseline (bench/baseline_pandas.py):", flush=True)
        out = work / "baseline.json"
        res["runs"]["baseline"] = measure("baseline: pandas (bench/baseline_pandas.py)", [
            PY, str(BENCH / "baseline_pandas.py"), "--sources", str(run_sources), "--boundaries",
            str(BOUNDARIES), "--out", str(out)], log=logs / "baseline.log")
        if out.exists() and res["runs"]["baseline"]["exit_code"] == 0:
            data = json.loads(out.read_text())
            res["stages"]["baseline"] = data["stages"]
            res["baseline_rows"] = data["rows"]
            actuals["baseline"] = {(a["kpi_id"], a["fiscal_year"]): a["actual"] for a in data["actuals"]}

    national = work / "national"
    env = pipeline_env(national, run_sources)
    if "pipeline" in only:
        print("The pipeline, full run (python -m orchestration.run --full, as `make run FULL=1`):", flush=True)
        fresh(national)
        env = pipeline_env(national, run_sources)
        since = time.time()
        res["runs"]["pipeline"] = measure("pipeline: full run, national (orchestration.run --full)",
                                          [PY, "-m", "orchestration.run", "--full"], env, logs / "pipeline.log")
        res["pipeline_runs"] = run_stages(env, since)
        res["stages"]["pipeline"] = res["pipeline_runs"]["stages"]
        warehouse = national / "warehouse" / "codi.duckdb"
        if warehouse.exists() and (found := pipeline_actuals(warehouse)) is not None:
            actuals["pipeline"] = found

    if "pipeline" in actuals:
        plan = {k: v for k, v in actuals["pipeline"].items() if 2555 <= k[1] <= 2559}
        actuals["pipeline"] = plan
        problems = compare(actuals)
        compared = [n for n in ("baseline", "floor") if n in actuals]
        verdict = ("all three agree" if len(compared) == 2 and not problems else
                   f"{len(problems)} differing cells" if problems else
                   f"agree ({', '.join(compared)} compared)" if compared else
                   "not compared (run the baseline or the floor too)")
        res["agreement"] = {"cells": len(plan), "compared": compared, "verdict": verdict,
                            "differences": problems}
        print(f"mart_kpi actuals, country, FY2555-2559 ({len(plan)} cells): {verdict}", flush=True)
        for p in problems:
            print(f"  {p}", flush=True)
        res["actuals"] = {name: [{"kpi_id": k, "fiscal_year": y, "actual": v} for (k, y), v in sorted(a.items())]
                          for name, a in actuals.items()}

    if "daily" in only and (national / "warehouse").exists():
        print("Daily runs on the national profile (python -m orchestration.run, as `make run`):", flush=True)
        since = time.time()
        res["runs"]["daily_no_change"] = measure("daily run, no source changed",
                                                 [PY, "-m", "orchestration.run"], env, logs / "daily_no_change.log")
        res["stages"]["daily_no_change"] = run_stages(env, since)["stages"]
        if res["advance_days"]:
            # A day of new records and corrections in housing, finance, disaster and organization.
            subprocess.run([PY, "-m", "ingestion.demo", "--advance-days", "1", "--out", str(run_sources),
                            "--truth", str(national / "ground_truth")], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            since = time.time()
            res["runs"]["daily_one_source"] = measure(
                "daily run after `--advance-days 1` (incremental)",
                [PY, "-m", "orchestration.run"], env, logs / "daily_advance.log")
            res["daily_runs"] = run_stages(env, since)
            res["stages"]["daily_one_source"] = res["daily_runs"]["stages"]

    if "demo" in only:
        demo = work / "demo"
        demo_sources = demo / "sources"
        if not (demo_sources / "welfare").is_dir():
            subprocess.run([PY, "-m", "ingestion.demo", "--profile", "demo", "--out", str(demo_sources),
                            "--truth", str(demo / "ground_truth")], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        print("`make run` on the demo profile:", flush=True)
        fresh(demo)
        res["runs"]["demo_run"] = measure("make run, demo profile (python -m orchestration.run)",
                                          [PY, "-m", "orchestration.run"], pipeline_env(demo, demo_sources),
                                          logs / "demo_run.log")

    runs = res["runs"]
    if "pipeline" in runs and "floor" in runs:
        res["ratios"]["pipeline_over_floor"] = runs["pipeline"]["wall_s"] / runs["floor"]["wall_s"]
        res["ratios"]["pipeline_over_floor_cpu"] = runs["pipeline"]["cpu_s"] / runs["floor"]["cpu_s"]
    if "pipeline" in runs and "baseline" in runs:
        res["ratios"]["baseline_over_pipeline"] = runs["baseline"]["wall_s"] / runs["pipeline"]["wall_s"]
        res["ratios"]["baseline_over_pipeline_cpu"] = runs["baseline"]["cpu_s"] / runs["pipeline"]["cpu_s"]
    if "pipeline" in runs:
        res["ratios"]["pipeline_peak_mb"] = runs["pipeline"]["peak_tree_pss_mb"]
        if "daily_one_source" in runs:
            res["ratios"]["daily_one_source_share"] = runs["daily_one_source"]["wall_s"] / runs["pipeline"]["wall_s"]
            res["ratios"]["daily_one_source_share_cpu"] = runs["daily_one_source"]["cpu_s"] / runs["pipeline"]["cpu_s"]
        if "daily_no_change" in runs:
            res["ratios"]["daily_no_change_share"] = runs["daily_no_change"]["wall_s"] / runs["pipeline"]["wall_s"]

    markdown = (f"Measured {res['date']} on: {machine_line(res['machine'])}.\n\n" + table(res))
    # A partial run (--only) never replaces the day's full results.
    stamp = dt.date.today().isoformat() + ("" if only >= set(PARTS) else "-" + "+".join(sorted(only)))
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / f"{stamp}.json").write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str),
                                           encoding="utf-8")
    (results / f"{stamp}.md").write_text(markdown + "\n", encoding="utf-8")
    if {"pipeline", "baseline", "floor"} <= only:
        write_readme(markdown)
    print("\n" + markdown)
    print(f"\nResults: {results / (stamp + '.json')}")
    failed = [k for k, m in runs.items() if m["exit_code"] != 0]
    return 1 if failed or res.get("agreement", {}).get("differences") else 0


if __name__ == "__main__":
    sys.exit(main())
