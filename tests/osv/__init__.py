"""Tests of the OSV client against the loopback fake."""
