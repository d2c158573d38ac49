"""The `djp-sentinel` command line: argument parsing and terminal rendering."""
