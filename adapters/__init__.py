"""Driven adapters, named <technology>_<role>: readers, validator, stores, queue."""
