"""python -m ingestion.demo --profile demo|national|small --out data/sources [--truth DIR] [--seed N]
python -m ingestion.demo --advance-days N [--only disaster ...] --out data/sources [--truth DIR]"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from . import DEFAULT_SEED, PROFILES, advance, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.demo",
                                     description="Write the demo sources and their ground truth.")
    parser.add_argument("--profile", choices=PROFILES, default="demo")
    parser.add_argument("--out", type=Path, default=Path("data/sources"),
                        help="the sources folder (default: data/sources)")
    parser.add_argument("--truth", type=Path, default=None,
                        help="the ground-truth folder (default: <out>/../ground_truth)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--advance-days", type=int, default=0, metavar="N",
                        help="instead of generating: append the next N days of new records and "
                             "corrections to the existing sources (state in the ground-truth folder)")
    parser.add_argument("--only", nargs="+", choices=advance.SOURCES, default=list(advance.SOURCES),
                        help="with --advance-days: only these sources change")
    args = parser.parse_args(argv)
    truth = args.truth or args.out.resolve().parent / "ground_truth"
    if args.advance_days:
        done = advance.advance(args.out, truth, args.advance_days, args.seed, tuple(args.only))
        for day in done["applied"]:
            print(json.dumps(day, ensure_ascii=False))
        print(f"Sources in {args.out} advanced to day {done['days']} after the export date.")
        return 0
    started = time.perf_counter()
    counts = generate(args.out, truth, profile=args.profile, seed=args.seed)
    elapsed = time.perf_counter() - started
    width = max(len(k) for k in counts)
    print(f"Demo sources ({args.profile}, seed {args.seed}) in {args.out}; ground truth in {truth}")
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>10,}")
    print(f"  {'total':<{width}}  {sum(counts.values()):>10,}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    print(f"Wall time {elapsed:.1f} s; peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
