"""Alembic migrations of the telewarden store; ``versions/`` holds one file per revision."""
