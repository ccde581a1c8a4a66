"""Readers, normalisers and loaders that turn the issue databases into the Parquet lake."""
