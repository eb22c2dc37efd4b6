"""The pure core: domain types, number intelligence, policy, features, rules and models.

Nothing in this package performs I/O, reads environment variables or the wall clock; a
``Clock`` is injected where time is needed. ``tests/test_architecture.py`` enforces that the
core imports no adapter, entry point, storage, web or broker library.
"""
