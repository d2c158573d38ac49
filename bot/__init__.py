"""djp-sentinel: watch Django Packages and alert Discord channels about what changes."""

__version__ = "0.1.0"
