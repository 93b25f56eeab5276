"""Report writers: canonical JSON, Markdown and (later) HTML, SARIF, CSV, VEX."""
