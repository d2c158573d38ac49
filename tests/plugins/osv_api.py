"""Fixtures: a running fake OSV API (seeded with the real records), and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.delivery.worker import DeliveryReport
from bot.osv.client import OsvClient
from tests.fakes.osv_api import FakeOsv, Record
from tests.plugins.app import Stage


@pytest.fixture
async def osv_api() -> AsyncIterator[FakeOsv]:
    async with FakeOsv() as api:
        yield api


@pytest.fixture
async def osv_client(osv_api: FakeOsv) -> AsyncIterator[OsvClient]:
    async with OsvClient.open(osv_api.base_url, timeout=2.0) as client:
        yield client


#: A real PYSEC/GHSA pair of django-debug-toolbar records (CVE-2021-30459, HIGH).
TOOLBAR_PAIR = ("PYSEC-2021-10", "GHSA-pghf-347x-c2gj")


@pytest.fixture
def toolbar_pair(osv_api: FakeOsv) -> dict[str, Record]:
    """The pair, taken out of the fake OSV until a test publishes it (`osv_api.put`)."""
    return {vuln_id: osv_api.records.pop(vuln_id) for vuln_id in TOOLBAR_PAIR}


@dataclass(frozen=True)
class AdvisoryStage(Stage):
    """A `Stage` whose fake OSV holds the toolbar pair back until the test publishes it."""

    osv_api: FakeOsv
    pair: dict[str, Record]

    def put_pair(self) -> None:
        """OSV publishes the pair; the bot sees it at its next cycle."""
        for record in self.pair.values():
            self.osv_api.put(record)

    async def publish(self) -> DeliveryReport:
        """A silent baseline cycle, then the pair published: the report of the cycle that
        announced it."""
        await self.next_cycle()
        self.put_pair()
        return await self.next_cycle()

    async def withdraw(self) -> DeliveryReport:
        """OSV withdraws the pair: the report of the cycle that noticed."""
        for vuln_id in self.pair:
            self.osv_api.update(
                vuln_id, withdrawn="2026-12-01T00:00:00Z", modified="2026-12-01T00:00:00Z"
            )
        return await self.next_cycle()


@pytest.fixture
def osv_stage(stage: Stage, osv_api: FakeOsv, toolbar_pair: dict[str, Record]) -> AdvisoryStage:
    return AdvisoryStage(stage.scene, stage.bot, stage.clock, osv_api, toolbar_pair)
