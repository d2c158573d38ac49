"""The OSV API client: which advisories name a PyPI package, and each advisory's record."""
