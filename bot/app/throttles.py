"""How often names may be looked up: autocomplete answers per person, and searches of Django
Packages (a volunteer-run site) per person and for everyone together."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.core.throttle import RateLimit

#: Autocomplete answers per person: a fast typist's keystrokes, not a script's.
ANSWERS_PER_PERSON = (20, 10.0)
MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class LookupThrottle:
    """Budgets shared by every command of one process; a person is their Discord user id."""

    answers: RateLimit
    searches: RateLimit
    all_searches: RateLimit

    @classmethod
    def from_settings(cls, settings: Settings) -> LookupThrottle:
        return cls(
            answers=RateLimit(*ANSWERS_PER_PERSON),
            searches=RateLimit(settings.upstream_searches_per_user_minute, MINUTE),
            all_searches=RateLimit(settings.upstream_searches_per_minute, MINUTE),
        )

    def may_answer(self, person: int) -> bool:
        """Count one autocomplete answer for `person`; False past their budget."""
        return self.answers.take(person)

    def may_search(self, person: int | None) -> bool:
        """Count one search of Django Packages for `person` (None: the operator, bound by the
        shared budget only); False when either budget is spent, and then nothing is counted."""
        if person is not None and not self.searches.allows(person):
            return False
        if not self.all_searches.take():
            return False
        if person is not None:
            self.searches.take(person)
        return True
