"""The local knowledge base: store, importers, matching, threat catalogs, technology pack."""
