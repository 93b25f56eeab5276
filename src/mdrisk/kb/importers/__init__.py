"""Importers, one module per format, found by content (see ``registry``)."""
