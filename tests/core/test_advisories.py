"""Reading real OSV records: affected versions, severity, and aliases joined into one
vulnerability."""

from __future__ import annotations

import pytest

from bot.core.advisories import Advisory, MalformedAdvisory, group, parse_advisory
from tests.fakes.osv_api import real_records

RECORDS = real_records()


def advisory(vuln_id: str, name: str = "django") -> Advisory:
    return parse_advisory(RECORDS[vuln_id], name)


def test_ghsa_ranges_one_affected_entry_per_branch() -> None:
    record = advisory("GHSA-68w8-qjq3-2gfm")
    assert [span.text() for span in record.spans] == [
        "<2.2.24",
        ">=3.0.0,<3.1.12",
        ">=3.2.0,<3.2.4",
    ]
    assert record.fixed == ("2.2.24", "3.1.12", "3.2.4")
    assert record.affects("3.2.3")
    assert record.affects("2.2.23")
    assert not record.affects("3.2.4")
    assert not record.affects("4.0")


def test_pysec_events_in_one_list_and_its_versions() -> None:
    record = advisory("PYSEC-2021-98")
    assert record.affects("3.1.11")
    assert not record.affects("3.1.12")
    assert "3.1.11" in record.versions


def test_severity_word_or_cvss_rating() -> None:
    assert advisory("GHSA-2gwj-7jmv-h26r").severity == "CRITICAL"
    assert advisory("GHSA-68w8-qjq3-2gfm").severity == "MODERATE"
    assert advisory("PYSEC-2021-98").severity is None  # PYSEC records rate nothing


def test_the_package_name_is_read_in_any_spelling() -> None:
    assert advisory("GHSA-2gwj-7jmv-h26r", "DJANGO").spans  # the record says "Django"
    assert not advisory("GHSA-2gwj-7jmv-h26r", "flask").spans


def test_a_pysec_and_a_ghsa_record_sharing_a_cve_are_one_vulnerability() -> None:
    records = [advisory(i) for i in ("PYSEC-2022-190", "GHSA-2gwj-7jmv-h26r", "PYSEC-2024-70")]
    vulnerabilities = group(records)
    assert len(vulnerabilities) == 2
    pair = next(v for v in vulnerabilities if len(v.records) == 2)
    assert pair.ids[:2] == ("GHSA-2gwj-7jmv-h26r", "PYSEC-2022-190")
    assert "CVE-2022-28346" in pair.ids
    assert pair.severity == "CRITICAL"  # the GHSA side's rating covers the pair


def test_withdrawn_records_affect_nothing() -> None:
    record = parse_advisory(RECORDS["PYSEC-2021-13"], "flask-caching")
    assert record.withdrawn
    assert not record.affects("1.0.0")
    assert group([record])[0].withdrawn


def test_a_modified_time_alone_is_not_material() -> None:
    before = advisory("GHSA-68w8-qjq3-2gfm")
    moved = parse_advisory(
        {**RECORDS["GHSA-68w8-qjq3-2gfm"], "modified": "2026-01-01T00:00:00Z"}, "django"
    )
    assert moved.material() == before.material()
    fixed_later = dict(RECORDS["GHSA-68w8-qjq3-2gfm"])
    fixed_later["affected"] = fixed_later["affected"][:1]
    assert parse_advisory(fixed_later, "django").material() != before.material()


def test_a_record_without_id_is_malformed() -> None:
    with pytest.raises(MalformedAdvisory):
        parse_advisory({"modified": "2026-01-01T00:00:00Z"}, "django")


def test_fixed_for_a_pin_is_the_next_fix_above_it() -> None:
    vulnerability = group([advisory("GHSA-68w8-qjq3-2gfm")])[0]
    assert vulnerability.fixed_for("3.1.5") == "3.1.12"
    assert vulnerability.fixed_for("3.2.4") is None
