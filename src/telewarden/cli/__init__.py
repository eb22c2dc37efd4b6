"""Command-line entry point (Typer + Rich). Each command group lives in its own module."""
