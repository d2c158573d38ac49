"""The outbox worker: delivery planning, digests, and the senders alerts go out through."""
