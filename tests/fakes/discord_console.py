"""The fake Discord on a fixed port, with a console to type slash commands as a member would.

    python -m tests.fakes.discord_console --port 8770

It holds the tests' standard scene (the server "Django Community" with #alerts and #general, a
`manager` with Manage Channels and a plain `member`), prints the settings that point
`djp-sentinel run` at it, then reads the lines `HELP` shows. A command runs as the manager in
#alerts unless `#channel` or `@member` says otherwise. Option values are read as the synced
command declares them (`hour:8`, `ping:true`, `channel:#alerts`, `role:@Channel Managers`;
`file:requirements.txt` uploads that file). Messages the bot posts on its own (alerts,
digests, webhook posts) are printed as they arrive, and so is each change of the bot's open
gateway sessions (`sessions` says them at any time).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord, NoBotSession
from tests.fakes.discord_interactions import InteractionRecord, OptionValue
from tests.fakes.discord_models import FakeChannel, FakeMember, PostedMessage
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.standalone import serve_until_interrupted

SUBCOMMAND, GROUP = 1, 2
INTEGER, BOOLEAN, USER, CHANNEL, ROLE, NUMBER, ATTACHMENT = 4, 5, 6, 7, 8, 10, 11
_COMMENT = re.compile(r"\s+#\s.*$")
_COMMAND_LINE = re.compile(r"^(?P<where>(?:[#@]\S+\s+)*)(?P<ask>\?)?/(?P<command>.+)$")
HELP = """\
/watch add slug:django-flatblocks events:release, stale
#general @member /package slug:django-flatblocks   as @member, in #general
?/watch add slug:flatblcoks                        the choices autocomplete offers
click Next                                         a button of the last answer
webhook #alerts                                    a webhook URL for `djp-sentinel webhook add`
sessions                                           the bot's open gateway sessions"""


class ConsoleError(Exception):
    """A line the console cannot send, said in one sentence."""


@dataclass
class Console:
    """Turns typed lines into interactions on `scene.fake` and its answers into text."""

    scene: DiscordScene
    last_answer: PostedMessage | None = None
    _printed: set[int] = field(default_factory=set)
    _last_sessions: str = "gateway sessions open: 0"

    @property
    def fake(self) -> FakeDiscord:
        return self.scene.fake

    async def execute(self, line: str) -> list[str]:
        """What the console prints for one typed line (a ` # comment` after it is ignored)."""
        line = _COMMENT.sub("", line).strip()
        try:
            if not line:
                return []
            if line in ("help", "?"):
                return HELP.splitlines()
            if line.startswith("click "):
                return await self._click(line.removeprefix("click ").strip())
            if line.startswith("webhook "):
                hook = self.fake.create_webhook(self._channel(line.split()[1]).id)
                return [f"webhook URL: {hook.url}"]
            if line == "sessions":
                return [self._sessions()]
            return await self._command(line)
        except (ConsoleError, TimeoutError) as exc:
            return [f"console: {exc}"]
        except NoBotSession as exc:
            return [f"console: {exc}: is a gateway process running for it? ({self._sessions()})"]

    def new_posts(self) -> list[str]:
        """The messages the bot posted on its own since the last call, as text."""
        lines: list[str] = []
        for channel in self.scene.guild.channels:
            for message in self.fake.messages(channel.id):
                if message.interaction_id is None and message.id not in self._printed:
                    self._printed.add(message.id)
                    lines += [f"[#{channel.name}] new message:", *rendered(message)]
        return lines

    def session_changes(self) -> list[str]:
        """A line saying which gateway sessions are open, when that changed since the last call
        (a spare taking over, or two processes connected at once, shows here)."""
        sessions = self._sessions()
        if sessions == self._last_sessions:
            return []
        self._last_sessions = sessions
        milliseconds = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        return [f"[{milliseconds} UTC] {sessions}"]

    def _sessions(self) -> str:
        live = self.fake.gateway.live
        shards = ", ".join(
            "unsharded" if c.shard is None else f"shard {c.shard[0]} of {c.shard[1]}" for c in live
        )
        return f"gateway sessions open: {len(live)}" + (f" ({shards})" if live else "")

    async def _command(self, line: str) -> list[str]:
        match = _COMMAND_LINE.match(line)
        if match is None:
            raise ConsoleError(f"not a command: {line!r} (type help)")
        channel, user = self.scene.alerts, self.scene.manager
        for word in match["where"].split():
            if word.startswith("#"):
                channel = self._channel(word)
            else:
                user = self._member(word)
        path, declared, typed = self._parse(match["command"])
        options = {name: self._value(declared[name], text) for name, text in typed.items()}
        if match["ask"]:
            focused = list(typed)[-1] if typed else ""
            choices = await self.fake.autocomplete(
                " ".join(path), options, focused=focused, user=user, channel_id=channel.id
            )
            return [f"choice: {choice['name']}" for choice in choices] or ["no choices"]
        missing = [name for name, option in declared.items() if option.get("required")]
        if absent := [name for name in missing if name not in typed]:
            raise ConsoleError(f"/{' '.join(path)} needs {', '.join(absent)}")
        record = await self.fake.run_command(
            " ".join(path), options, user=user, channel_id=channel.id
        )
        return self._answer(record)

    def _parse(self, text: str) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, str]]:
        """The command's path, its declared options by name, and the typed option texts."""
        words = text.split()
        path = list(_until(words, lambda word: ":" in word))
        declared = self._declared(path)
        rest = text.split(None, len(path))[len(path)] if len(words) > len(path) else ""
        names = "|".join(map(re.escape, declared)) or r"(?!)"
        typed: dict[str, str] = {}
        for part in re.split(rf"\s+(?=(?:{names}):)", rest) if rest else []:
            name, _, value = part.partition(":")
            if name not in declared:
                raise ConsoleError(f"/{' '.join(path)} has no option {name!r}")
            typed[name] = value.strip()
        return path, declared, typed

    def _declared(self, path: list[str]) -> dict[str, dict[str, Any]]:
        synced = self.fake.synced_commands
        commands = [*synced.get(self.scene.guild.id, []), *synced.get(None, [])]
        if not commands:
            raise ConsoleError(
                "no slash command is registered yet: run "
                f"`djp-sentinel sync-commands --guild {self.scene.guild.id}`"
            )
        found: dict[str, Any] = {"options": commands}
        for word in path:
            option = next((o for o in found.get("options", []) if o["name"] == word), None)
            if option is None or option.get("type", SUBCOMMAND) not in (SUBCOMMAND, GROUP):
                known = ", ".join(sorted(o["name"] for o in found.get("options", [])))
                raise ConsoleError(f"no command /{' '.join(path)} (known here: {known})")
            found = option
        leaves = found.get("options", [])
        if any(o["type"] in (SUBCOMMAND, GROUP) for o in leaves):
            raise ConsoleError(f"/{' '.join(path)} needs a subcommand")
        return {option["name"]: option for option in leaves}

    def _value(self, option: dict[str, Any], text: str) -> OptionValue:
        """`text` as the value of `option`, refused as Discord's client refuses what is not
        one of its choices or outside its declared range or length."""
        if choices := option.get("choices"):
            chosen = [c["value"] for c in choices if text in (c["name"], str(c["value"]))]
            if not chosen:
                names = ", ".join(c["name"] for c in choices)
                raise ConsoleError(f"{option['name']}: choose one of {names}")
            return cast("OptionValue", chosen[0])
        value = self._typed(option, text)
        measured: float
        if isinstance(value, str):
            measured, unit = len(value), " characters"
            low, high = option.get("min_length"), option.get("max_length")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            measured, unit = value, ""
            low, high = option.get("min_value"), option.get("max_value")
        else:
            return value
        if (low is not None and measured < low) or (high is not None and measured > high):
            raise ConsoleError(f"{option['name']}: give {_between(low, high)}{unit}")
        return value

    def _typed(self, option: dict[str, Any], text: str) -> OptionValue:
        """`text` as the type the command declares for `option`."""
        kind, name = option["type"], option["name"]
        try:
            if kind == INTEGER:
                return int(text)
            if kind == NUMBER:
                return float(text)
        except ValueError:
            raise ConsoleError(f"{name}: {text!r} is not a number") from None
        if kind == BOOLEAN:
            if text.lower() not in ("true", "false"):
                raise ConsoleError(f"{name}: give true or false")
            return text.lower() == "true"
        if kind == CHANNEL:
            return self._channel(text)
        if kind == USER:
            return self._member(text)
        if kind == ROLE:
            role = next((r for r in self.scene.guild.roles if r.name == text.lstrip("@")), None)
            if role is None:
                raise ConsoleError(f"{name}: no role {text!r}")
            return role
        if kind == ATTACHMENT:
            try:
                return self.fake.attachment(Path(text).name, Path(text).read_bytes())
            except OSError as exc:
                raise ConsoleError(f"{name}: cannot read {text!r} ({exc.strerror})") from None
        return text

    def _channel(self, name: str) -> FakeChannel:
        found = next((c for c in self.scene.guild.channels if c.name == name.lstrip("#")), None)
        if found is None:
            raise ConsoleError(f"no channel {name!r}: the server has #alerts and #general")
        return found

    def _member(self, name: str) -> FakeMember:
        found = next(
            (m for m in self.scene.guild.members if m.user.username == name.lstrip("@")), None
        )
        if found is None:
            raise ConsoleError(f"no member {name!r}: the server has @manager and @member")
        return found

    async def _click(self, label: str) -> list[str]:
        if self.last_answer is None:
            raise ConsoleError("nothing to click yet: run a command first")
        buttons = [b for b in _buttons(self.last_answer) if b.get("label") == label]
        if not buttons or "custom_id" not in buttons[0]:
            labels = ", ".join(b["label"] for b in _buttons(self.last_answer) if "label" in b)
            raise ConsoleError(f"no button {label!r} to click (there are: {labels or 'none'})")
        record = await self.fake.click(self.last_answer, buttons[0]["custom_id"])
        return self._answer(record)

    def _answer(self, record: InteractionRecord) -> list[str]:
        if record.errors:
            return [f"Discord refused the answer: {error}" for error in record.errors]
        messages = [m for m in (record.message, *record.followups) if m is not None]
        if messages:
            self.last_answer = messages[0]
        return [line for message in messages for line in rendered(message)] or ["(no answer)"]


def _until(words: list[str], stop: Callable[[str], bool]) -> Iterator[str]:
    for word in words:
        if stop(word):
            return
        yield word


def _between(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _buttons(message: PostedMessage) -> list[dict[str, Any]]:
    return [item for row in message.components for item in row.get("components") or []]


def rendered(message: PostedMessage) -> list[str]:
    """A message as text: content, each embed's title, description and fields, files, buttons."""
    lines = [f"  {line}" for line in message.content.splitlines()]
    for embed in message.embeds:
        lines += [f"  {embed['title']}"] if embed.get("title") else []
        lines += [f"    {line}" for line in embed.get("description", "").splitlines()]
        for item in embed.get("fields", []):
            value = item["value"].replace("\n", " / ")
            lines.append(f"    {item['name']}: {value}")
        if footer := embed.get("footer", {}).get("text"):
            lines.append(f"    ({footer})")
    lines += [f"  [file {name}, {len(data):,} bytes]" for name, data in message.files.items()]
    labels = [b.get("label", "?") for b in _buttons(message) if b.get("type") == 2]
    lines += [f"  [buttons: {', '.join(labels)}]"] if labels else []
    return lines


async def serve(port: int) -> None:
    """Serve the scene on `port`, read commands from stdin until it closes, then keep serving
    (so it can run in the background) until interrupted."""
    async with FakeDiscord(port=port) as fake:
        scene = DiscordScene.build(fake)
        console = Console(scene)
        for line in introduction(scene):
            print(line, flush=True)
        watcher = asyncio.create_task(_print_posts(console))
        try:
            async for line in _stdin_lines():
                for printed in await console.execute(line):
                    print(printed, flush=True)
            await asyncio.Event().wait()
        finally:
            watcher.cancel()


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines of stdin, read by a daemon thread (one blocked in `readline` must not keep an
    interrupted console from exiting, as a thread of the default executor would)."""
    loop, queue = asyncio.get_running_loop(), asyncio.Queue[str]()

    def read() -> None:
        for line in iter(sys.stdin.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=read, daemon=True).start()
    while line := await queue.get():
        yield line


def introduction(scene: DiscordScene) -> list[str]:
    """Where the fake listens, the settings that point the bot at it, and the scene's ids."""
    guild = scene.guild
    return [
        f"Fake Discord on {scene.fake.api_base}: server {guild.name!r} (id {guild.id}), "
        f"#alerts (id {scene.alerts.id}), #general (id {scene.general.id}), "
        "@manager (Manage Channels), @member.",
        "Point the bot at it (each variable is in the README's Configuration table):",
        f"  export DISCORD_TOKEN={scene.fake.token} DISCORD_API_BASE={scene.fake.api_base} "
        f"DEV_GUILD_ID={guild.id} WEBHOOK_TEST_HOST={WEBHOOK_TEST_HOST}",
        "Then type slash commands here, e.g. /package slug:django-flatblocks (help: more).",
    ]


async def _print_posts(console: Console) -> None:
    while True:
        for line in [*console.session_changes(), *console.new_posts()]:
            print(line, flush=True)
        await asyncio.sleep(0.1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Discord and type slash commands.")
    parser.add_argument("--port", type=int, default=8770, help="port on 127.0.0.1")
    args = parser.parse_args(argv)
    serve_until_interrupted(serve(args.port), f"port {args.port}")


if __name__ == "__main__":
    main()
