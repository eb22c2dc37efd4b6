"""The embedded store: SQLAlchemy 2 tables, Alembic migrations shipped in the package, and the
``ScreeningStore`` protocol with its SQL implementation.

Import ``telewarden.adapters.storage.sql`` (SQLAlchemy) only where a database is needed; the
protocol module imports no database library, so the in-memory store and the core stay light.
"""
