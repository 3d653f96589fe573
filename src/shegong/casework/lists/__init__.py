"""The casework declared lists (``core.lists``), one module per kind of record."""
