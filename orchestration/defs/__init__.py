"""Everything in this folder is loaded by `dg.load_from_defs_folder` (definitions.py)."""
