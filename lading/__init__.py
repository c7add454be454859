"""Lading: self-hosted bulk import jobs.

The repository keeps the owner's layer folders (domain/, application/, adapters/, entrypoints/)
at its top level; pyproject.toml maps each under this one package (ADR 0005), so an install puts
exactly one top-level name, ``lading``, into site-packages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lading")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
