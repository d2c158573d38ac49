"""The PyPI project name comes from `pypi_url`, PEP 503 normalised, or not at all."""

from __future__ import annotations

import pytest

from bot.core.pypi_names import normalise_project_name, pypi_project_name


@pytest.mark.parametrize(
    ("pypi_url", "expected"),
    [
        ("https://pypi.org/project/djangorestframework/", "djangorestframework"),
        ("https://pypi.org/project/Django_REST.framework/", "django-rest-framework"),
        ("http://pypi.python.org/pypi/django-crispy-forms", "django-crispy-forms"),
        ("pypi.python.org/pypi/django-crispy-forms/1.0", "django-crispy-forms"),
        ("https://pypi.org/pypi/Nango/json", "nango"),
        ("https://www.pypi.org/project/asgiref/?tab=history", "asgiref"),
        ("  https://pypi.org/project/django--debug__toolbar/  ", "django-debug-toolbar"),
    ],
)
def test_every_stored_form_names_the_same_project(pypi_url: str, expected: str) -> None:
    assert pypi_project_name(pypi_url) == expected


@pytest.mark.parametrize(
    "pypi_url",
    [None, "", "   ", "https://example.com/django-foo", "https://pypi.org/search/?q=django", "-_-"],
)
def test_a_link_that_names_no_project_gives_none(pypi_url: str | None) -> None:
    assert pypi_project_name(pypi_url) is None


def test_normalisation_is_pep_503() -> None:
    assert normalise_project_name("Friendly-Bard") == "friendly-bard"
    assert normalise_project_name("FRIENDLY._-BARD") == "friendly-bard"
