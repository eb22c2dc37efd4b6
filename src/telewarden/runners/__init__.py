"""Runners: batch, stream and replay drivers that wire adapters to the core."""
