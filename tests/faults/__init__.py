"""Fault injection for tests/test_faults.py (issue 13): damaged variants of the small demo
sources in every source format, and what each must give.

- `variants.py`: the variants (`VARIANTS`), what each does to the files and what a user must see;
- `formats.py`: editing CSV/NDJSON lines, SQLite rows, workbook cells and GeoJSON features in
  their own formats, and the ground truth of the small sources;
- `physical.py`: the records of a file counted from its bytes, apart from the pipeline's readers;
- `checks.py`: what a load left in the lake and the checks every variant gets.

The privacy scanner they use is `tests/privacy.py` (reusable on any folder).
"""
