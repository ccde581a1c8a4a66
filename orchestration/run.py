"""`make run`: materialise every asset as one run of `daily_refresh` in the project's Dagster
instance (so the run shows in `make ui`), then print the summary.

Usage: python -m orchestration.run [--select ASSET_KEY ...]
"""

from __future__ import annotations

import argparse
import sys
import time

import dagster as dg

from orchestration import summary


def _job() -> dg.JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("daily_refresh")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", nargs="*", help="asset keys such as marts/dim_area (default: all)")
    parser.add_argument("--log-level", default="WARNING", help="Dagster console log level")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(_job),
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": args.log_level}}}},
            asset_selection=[dg.AssetKey.from_user_string(k) for k in args.select] if args.select else None,
        )
        summary.print_run(result, instance, time.monotonic() - started)
    summary.print_warehouse()
    summary.print_published(result.run_id)  # ends with the path of the reports' index
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
