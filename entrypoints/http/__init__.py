"""The native /v1 HTTP API (SPEC §4): a Litestar driving adapter over the application."""

from lading.entrypoints.http.app import create_app

__all__ = ["create_app"]
