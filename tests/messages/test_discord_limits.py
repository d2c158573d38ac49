"""Discord's limits in one place: escaping upstream text, cutting, packing and checking."""

from __future__ import annotations

import pytest

from bot.messages.limits import (
    DESCRIPTION,
    ELLIPSIS,
    EMBED_TOTAL,
    LimitExceeded,
    check_message,
    embed_size,
    escape_text,
    fit_embed,
    fit_message,
    link_url,
    pack_embeds,
    truncate,
)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (
            "**bold** _it_ ~~s~~ `c` ||spoiler||",
            r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\` \|\|spoiler\|\|",
        ),
        ("[link](https://x.test)", "\\[link\\](https:\u200b//x.test)"),
        ("# heading\n> quote\n- item", "\\# heading\n\\> quote\n\\- item"),
        ("a\\b", "a\\\\b"),
        ("plain text 1.0.1", "plain text 1.0.1"),
    ],
)
def test_markdown_in_upstream_text_shows_literally(text: str, escaped: str) -> None:
    assert escape_text(text) == escaped


@pytest.mark.parametrize(
    "mention", ["@everyone", "@here", "<@123>", "<@!123>", "<@&123>", "<#123>"]
)
def test_mentions_in_upstream_text_are_broken(mention: str) -> None:
    escaped = escape_text(f"hi {mention}!")
    assert mention not in escaped
    assert escaped.replace("\u200b", "") == f"hi {mention}!"


def test_truncate_marks_the_cut() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 20, 10) == "a" * 9 + ELLIPSIS
    assert truncate("words and   more", 12) == "words and" + ELLIPSIS


def test_fit_embed_cuts_every_part_and_the_total() -> None:
    embed = {
        "title": "t" * 300,
        "description": "d" * 5000,
        "fields": [{"name": "n" * 300, "value": "v" * 2000} for _ in range(30)],
        "footer": {"text": "f" * 3000},
    }

    fitted = fit_embed(embed)

    assert len(fitted["title"]) == 256
    assert len(fitted["description"]) <= DESCRIPTION
    assert fitted["description"].endswith(ELLIPSIS)
    assert len(fitted["fields"]) <= 25
    assert embed_size(fitted) <= EMBED_TOTAL
    assert len(embed["fields"]) == 30  # the original is left alone
    check_message({"embeds": [fitted]})


def test_fit_embed_gives_empty_fields_a_visible_blank() -> None:
    fitted = fit_embed({"fields": [{"name": "", "value": ""}]})
    assert fitted["fields"] == [{"name": "\u200b", "value": "\u200b"}]


def test_embed_size_counts_what_discord_counts() -> None:
    embed = {
        "title": "ab",
        "description": "cde",
        "url": "https://not.counted.test/",
        "fields": [{"name": "f", "value": "gh"}],
        "footer": {"text": "i"},
        "author": {"name": "jk"},
        "footer_none": None,
    }
    assert embed_size(embed) == 11
    assert embed_size({"title": None, "footer": None}) == 0


def test_pack_embeds_fills_messages_by_count_and_by_size() -> None:
    small = [{"title": str(n)} for n in range(12)]
    assert [len(group) for group in pack_embeds(small)] == [10, 2]

    big = [{"description": "x" * 2500} for _ in range(5)]
    groups = pack_embeds(big)
    assert [len(group) for group in groups] == [2, 2, 1]
    assert all(sum(map(embed_size, group)) <= EMBED_TOTAL for group in groups)


def test_check_message_names_the_broken_limit() -> None:
    with pytest.raises(LimitExceeded, match="content"):
        check_message({"content": "x" * 2001})
    with pytest.raises(LimitExceeded, match="11 embeds"):
        check_message({"embeds": [{"title": "t"}] * 11})
    with pytest.raises(LimitExceeded, match="per-part"):
        check_message({"embeds": [{"title": "t" * 257}]})
    with pytest.raises(LimitExceeded, match="total"):
        check_message({"embeds": [{"description": "x" * 4000}] * 2})


def test_fit_message_makes_anything_fit() -> None:
    message = {"content": "c" * 3000, "embeds": [{"description": "x" * 4096}] * 12}
    fitted = fit_message(message)
    assert len(fitted["content"]) == 2000
    assert len(fitted["embeds"]) == 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see https://evil.example/x", "see https:\u200b//evil.example/x"),
        ("HTTP://EVIL.example", "HTTP:\u200b//EVIL.example"),
        ("join discord.gg/abc now", "join discord\u200b.gg/abc now"),
        ("discord.com/invite/abc", "discord\u200b.com/invite/abc"),
        ("ends <t:1700000000:R>", "ends <\u200bt:1700000000:R>"),
        ("run </ban:123456789>", "run <\u200b/ban:123456789>"),
        ("<:pepe:123> <a:dance:456>", "<\u200b:pepe:123> <\u200ba:dance:456>"),
        ("Django<5 and 3<4", "Django<5 and 3<4"),
    ],
)
def test_links_invites_and_discord_syntax_in_upstream_text_stay_inert(
    text: str, shown: str
) -> None:
    assert escape_text(text) == shown


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.example/ok path",
        "https://",
        "javascript:alert(1)",
        "http://[::1",
        "https://example.test:port/",
        "https://example.test/\x1b]8;;",
        "https://example.test/" + "a" * 600,
        "",
        None,
    ],
)
def test_a_url_discord_would_refuse_never_becomes_a_link(url: str | None) -> None:
    assert link_url(url) is None


def test_a_well_formed_url_is_kept_as_it_is() -> None:
    url = "https://django-flatblocks.readthedocs.io/en/latest/?q=1#top"

    assert link_url(url) == url
