"""`/package` lookups of stored packages asked at the same moment are read together.

Through `look_up_package`, the path the cog and the CLI share, on both backends: everyone
gets their own package, grids and category; the database is read once for them all; keys
of every kind share a read; an error reaches everyone of its batch and nobody after; someone
who gives up does not take the others' answers with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.app.runtime import Runtime
from bot.app.summaries import look_up_package
from bot.errors import NotFound
from bot.messages.cards import GridRef
from storage import packages
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.djp_data import link
from tests.plugins.app import SteppingClock, package_copies

PEOPLE = 20
FLATBLOCKS, DEBUG_TOOLBAR = 265, 34
#: Seconds after which a lookup left waiting by a broken batch fails the test instead of hanging.
LEFT_WAITING = 10


@contextmanager
def statements_sent(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while inside, in order."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def reads_of_packages(sent: list[str]) -> list[str]:
    return [statement for statement in sent if "FROM packages" in statement]


async def stored_widgets(
    djp_api: FakeDjangoPackages, runtime: Runtime, template: dict[str, Any]
) -> dict[str, tuple[tuple[GridRef, ...], str]]:
    """`PEOPLE` packages stored by a sync, each in its own grids and category: by slug, the
    grids and category its summary should name."""
    grid_ids, category_ids = sorted(djp_api.grids), sorted(djp_api.categories)
    expected = {}
    for index, payload in enumerate(package_copies(template, PEOPLE)):
        grids = grid_ids[index % len(grid_ids) :][: 1 + index % 3]
        category = category_ids[index % len(category_ids)]
        payload.update(
            grids=[link("grids", grid) for grid in grids],
            category=link("categories", category),
        )
        djp_api.add_package(payload)
        expected[payload["slug"]] = (
            tuple(GridRef(djp_api.grids[g]["slug"], djp_api.grids[g]["title"]) for g in grids),
            djp_api.categories[category]["title"],
        )
    await runtime.monitor.sync_catalog()
    djp_api.reset_log()
    return expected


async def test_twenty_people_at_once_each_get_their_package_from_one_read(
    djp_api: FakeDjangoPackages, runtime: Runtime, flatblocks_payload: dict[str, Any]
) -> None:
    expected = await stored_widgets(djp_api, runtime, flatblocks_payload)
    slugs = list(expected)

    with statements_sent(runtime) as sent:
        lookups = await asyncio.gather(*(look_up_package(runtime, slug) for slug in slugs))

    for slug, lookup in zip(slugs, lookups, strict=True):
        summary = lookup.summary
        assert summary.record.slug == slug
        assert (summary.grids, summary.category) == expected[slug]
        assert not lookup.from_cache
    assert djp_api.requests == []  # every copy was fresh
    # One read: the packages with their categories' titles, then the grids listing them.
    assert len(reads_of_packages(sent)) == 1
    assert len(sent) == 2


async def test_one_person_asking_again_and_again_is_read_once_a_question(
    djp_api: FakeDjangoPackages, runtime: Runtime, flatblocks_payload: dict[str, Any]
) -> None:
    expected = await stored_widgets(djp_api, runtime, flatblocks_payload)

    with statements_sent(runtime) as sent:
        for slug in list(expected)[:3]:
            lookup = await look_up_package(runtime, slug)
            assert (lookup.summary.grids, lookup.summary.category) == expected[slug]

    assert len(reads_of_packages(sent)) == 3


async def test_ids_slugs_any_case_and_unknown_keys_in_one_batch_get_their_own_answers(
    djp_api: FakeDjangoPackages, runtime: Runtime, clock: SteppingClock
) -> None:
    await runtime.monitor.sync_catalog()
    removed = 5963  # stored, then gone upstream: no stored copy answers for it
    async with runtime.database.transaction() as session:
        await packages.mark_removed(session, removed, now=clock())
    djp_api.remove_package(removed)
    djp_api.reset_log()
    keys = [
        str(FLATBLOCKS),
        "DJANGO-Debug-Toolbar",
        "django-flatblocks",
        "django-nope",
        "../packages",
        str(removed),
        str(DEBUG_TOOLBAR),
    ]

    with statements_sent(runtime) as sent:
        answers = await asyncio.gather(
            *(look_up_package(runtime, key) for key in keys), return_exceptions=True
        )

    found = dict(zip(keys, answers, strict=True))
    for key, package_id in [
        (str(FLATBLOCKS), FLATBLOCKS),
        ("django-flatblocks", FLATBLOCKS),
        ("DJANGO-Debug-Toolbar", DEBUG_TOOLBAR),
        (str(DEBUG_TOOLBAR), DEBUG_TOOLBAR),
    ]:
        answer = found[key]
        assert not isinstance(answer, BaseException), answer
        assert answer.summary.record.id == package_id
    assert found["django-flatblocks"].summary.grids == (  # type: ignore[union-attr]
        GridRef("flatpages", "Flatpages"),
    )
    assert isinstance(found["django-nope"], NotFound)  # asked upstream, which has none
    assert isinstance(found[str(removed)], NotFound)  # removed: asked upstream, gone there
    assert "not a package slug" in str(found["../packages"])  # refused, never a query
    assert len(reads_of_packages(sent)) == 1  # every stored lookup in the one read
    assert sorted(request.path for request in djp_api.requests) == [
        "/api/v4/packages/5963/",
        "/api/v4/packages/django-nope/",
    ]


async def test_a_failed_read_reaches_everyone_in_its_batch_and_the_next_lookup_works(
    djp_api: FakeDjangoPackages, runtime: Runtime
) -> None:
    await runtime.monitor.sync_catalog()
    failures: list[str] = []

    def fail_once(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM packages" in statement and not failures:
            failures.append(statement)
            raise OperationalError(statement, None, Exception("the database went away"))

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", fail_once)
    try:
        async with asyncio.timeout(LEFT_WAITING):
            answers = await asyncio.gather(
                *(look_up_package(runtime, s) for s in ("django-flatblocks", "django-valkey")),
                return_exceptions=True,
            )
    finally:
        event.remove(engine, "before_cursor_execute", fail_once)

    assert len(failures) == 1  # one read for both
    assert all(isinstance(answer, OperationalError) for answer in answers)
    assert "went away" in str(answers[0])
    after = await look_up_package(runtime, "django-flatblocks")
    assert after.summary.record.id == FLATBLOCKS


async def test_someone_giving_up_leaves_the_others_their_answers(
    djp_api: FakeDjangoPackages, runtime: Runtime
) -> None:
    await runtime.monitor.sync_catalog()
    slugs = ["django-flatblocks", "django-valkey", "django-debug-toolbar", "django-filetags"]
    asking = {slug: asyncio.create_task(look_up_package(runtime, slug)) for slug in slugs}
    await asyncio.sleep(0)  # everyone has asked; the read has not started
    asking["django-filetags"].cancel()  # gives up before the read

    def give_up_during_the_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM packages" in statement:
            asking["django-valkey"].cancel()

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", give_up_during_the_read)
    try:
        async with asyncio.timeout(LEFT_WAITING):
            answers = await asyncio.gather(*asking.values(), return_exceptions=True)
    finally:
        event.remove(engine, "before_cursor_execute", give_up_during_the_read)

    found = dict(zip(slugs, answers, strict=True))
    assert isinstance(found["django-filetags"], asyncio.CancelledError)
    assert isinstance(found["django-valkey"], asyncio.CancelledError)
    for slug in ("django-flatblocks", "django-debug-toolbar"):
        answer = found[slug]
        assert not isinstance(answer, BaseException), answer
        assert answer.summary.record.slug == slug
    assert (await look_up_package(runtime, "django-valkey")).summary.record.slug == "django-valkey"


async def test_an_older_copy_fetched_live_is_named_from_the_stored_grids_and_categories(
    djp_api: FakeDjangoPackages, runtime: Runtime, clock: SteppingClock
) -> None:
    await runtime.monitor.sync_catalog()
    djp_api.update_package(FLATBLOCKS, repo_watchers=999)
    clock.advance(timedelta(hours=2))
    djp_api.reset_log()

    lookup = await look_up_package(runtime, "django-flatblocks")  # the CLI: fetched live

    assert lookup.summary.record.repo_watchers == 999
    assert lookup.summary.grids == (GridRef("flatpages", "Flatpages"),)
    assert lookup.summary.category == djp_api.categories[1]["title"]
    assert [request.path for request in djp_api.requests] == ["/api/v4/packages/django-flatblocks/"]
