"""Reads of the casework app, one module per part."""
