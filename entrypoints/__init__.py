"""Driving adapters (CLI, HTTP, watcher) and the one composition root, bootstrap.py."""
