"""The application layer: one module per use case, shared by every entry point.

A use case takes ports (``telewarden.core.ports``) and plain values and returns a report
dataclass; it never parses arguments, renders output or reads settings. The CLI, the REST API,
the live runner and the Spark job call these functions and only translate their inputs and
outputs. Import-linter forbids Typer, Rich, FastAPI, brokers and ``telewarden.settings`` here.

Modules
-------
context      ``AppContext``: the stores, clock and process-level gates an entry point hands over
screening    screen one event (store-backed), build screeners, the legal gate on content
screen_file  screen a file of events in chunks
demo         simulate a day, screen it, detect cards and measure against the truth
"""
