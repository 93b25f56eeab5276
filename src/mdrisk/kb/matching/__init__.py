"""Matching components to known vulnerabilities: versions, names, CPE, purl."""
