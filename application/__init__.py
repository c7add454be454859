"""Lading's use cases: the ImportJobs application, its ports and its projections."""
