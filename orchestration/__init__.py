"""The Dagster code location of the CODI Community Data Warehouse."""
