"""Adapters: implementations of the core's ports over files, databases and brokers.

Adapters may import the core; the core never imports them.
"""
