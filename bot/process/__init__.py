"""Process wiring: the roles a process runs, the loops and jobs of each role, headless mode,
`poll --once`, liveness and the metrics server."""
