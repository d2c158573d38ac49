"""The Django Packages API client and its retry policy."""
