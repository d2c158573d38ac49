"""The domain: records, health, events, digest bypass and wording. Pure: no I/O, no storage,
no Discord."""
