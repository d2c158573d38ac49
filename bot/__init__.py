"""djp-sentinel: watch Django Packages and alert Discord channels about what changes."""

#: The one version number: the package metadata and the User-Agent read it from here.
__version__ = "0.1.0"
