"""What users look at: the read-only DuckDB copy and Parquet files for BI tools, GeoJSON of the
areas with their latest figures, and the static HTML area reports (DESIGN section 7, published/)."""
