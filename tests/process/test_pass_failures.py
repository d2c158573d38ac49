"""A pass that fails on the database says so in one line: what failed and the driver's reason,
never the statement, its parameters or a link to SQLAlchemy's documentation."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from bot.process.jobs import survive
from storage.database import Database


async def test_a_database_error_in_a_pass_is_one_line_without_the_sql(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), survive("delivery pass"):
        async with database.connection() as connection:
            await connection.execute(
                text("SELECT body FROM no_such_table WHERE token = :token"), {"token": "hunter2"}
            )

    [record] = caplog.records
    line = record.getMessage()
    assert line.startswith("delivery pass failed, will try again next time: database: ("), line
    assert "no_such_table" in line  # the driver's reason
    for leak in ("\n", "SELECT", "hunter2", "Background"):
        assert leak not in line
    assert record.exc_info is None
