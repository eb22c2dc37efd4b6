"""Conformance suites that every implementation of a telewarden contract must pass.

``stores``: the store ports and stream seams (memory twins, SQLite, PostgreSQL, yours).
A carrier's plug-in is checked by the same functions the project runs over its own.
"""
