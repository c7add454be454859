"""Lading's domain: the import job aggregate, Table Schemas, plans and the rules of validation.

Nothing here does I/O or knows a framework other than the eventsourcing aggregate base class.
"""
