"""File adapters: event batches and list files in (CSV or Parquet, read with Polars), verdict and
quarantine files out.

Bad rows never stop a run: they go to a quarantine file with their line number and the reason,
and the counts reconcile (``read = accepted + quarantined``).
"""
