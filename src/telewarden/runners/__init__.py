"""Runners: long-running entry points (the live event loop) over the services.

A runner only wires sources and sinks to the services and keeps them going; every decision it
takes is a service's.
"""
