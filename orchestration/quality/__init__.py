"""Data quality and audit: Great Expectations suites on the marts run as Dagster asset checks
(`suites.py` what is checked, `runner.py` how GE runs it, `results.py` what Dagster records),
and the provenance every materialisation records (`provenance.py`)."""
