"""The Spark engine of the nightly batch job (needs the ``spark`` extra and a Java runtime).

What belongs here: everything that imports ``pyspark``, and nothing else does (import-linter
keeps it out of the core; the batch use case imports this package inside the function that
runs the Spark engine, so ``telewarden`` starts without a JVM). Modules:

- :mod:`.session` the SparkSession with the settings parity needs (UTC session time zone);
- :mod:`.features` the 55 Sichuan features (compiled from
  ``telewarden.core.features.definitions``) and the contact-graph features;
- :mod:`.scoring` the shipped LightGBM scorer over partitions (``mapInArrow``);
- :mod:`.job` the job: read the day-partitioned Parquet tables, compute, score, write.
"""
