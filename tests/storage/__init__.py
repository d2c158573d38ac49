"""Tests of storage: each query module on a real database."""
