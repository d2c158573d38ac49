"""Application services: runtime wiring, the loop runner, headless mode, export/import,
webhook subscriptions, package summaries and grid tables."""
