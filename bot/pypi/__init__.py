"""The optional upstreams beside Django Packages: PyPI's JSON API and endoflife.date."""
