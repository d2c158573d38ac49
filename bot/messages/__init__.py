"""Pure formatting: Discord's limits and escaping, alert messages, package cards."""
