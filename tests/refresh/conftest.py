"""The poll-cycle tests drive a monitor by hand: its `clock` and `monitor` fixtures replace the
bot's stepping clock here (`tests/plugins/monitor.py`)."""

from tests.plugins.monitor import clock, monitor

__all__ = ["clock", "monitor"]
