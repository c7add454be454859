"""Lading: self-hosted bulk import jobs.

The repository keeps the owner's layer folders (domain/, application/, adapters/, entrypoints/)
at its top level; pyproject.toml maps each under this one package (ADR 0005), so an install puts
exactly one top-level name, ``lading``, into site-packages.
"""


def __getattr__(name: str) -> str:
    # ``lading.__version__`` is read from the installed metadata on first use, not at import:
    # scanning the metadata cost every process (each CLI command, server and worker) ~50 ms.
    if name != "__version__":
        raise AttributeError(f"module 'lading' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lading")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"
