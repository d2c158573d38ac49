"""Tests of the fakes themselves: they answer as the real services do."""
