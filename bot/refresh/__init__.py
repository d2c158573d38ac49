"""The poll cycle, per-channel staleness and the weekly stale report."""
