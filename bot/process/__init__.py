"""Process wiring: the roles a process runs, the loops of each role (`assembly`) and their jobs,
headless mode, `poll --once`, liveness and the metrics server."""
