"""Name matching: legal forms, case and accents fold away; look-alike characters never pass."""

from __future__ import annotations

import pytest

from tools.payments.names import HOMOGLYPH_SCORE_CAP, name_similarity, normalise_name, suspicious_characters


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Müller & Söhne GmbH", "muller and sohne"),
        ("SOCIÉTÉ GÉNÉRALE S.A.", "societe generale"),
        ("Tulip Trading B.V.", "tulip trading"),
        ("Nordic Fish A/S", "nordic fish"),
        ("Milano Design S.r.l.", "milano design"),
        ("AG", "ag"),
    ],
)
def test_normalise_name(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("MUELLER MASCHINENBAU", "Müller Maschinenbau GmbH"),
        ("Albion Components Limited", "Albion Components Ltd"),
        ("societe generale des vins", "Société Générale des Vins SARL"),
        ("Logistik Nordwind GmbH", "Nordwind Logistik GmbH"),
    ],
)
def test_same_party_scores_high(candidate: str, reference: str) -> None:
    check = name_similarity(candidate, reference)
    assert check.score >= 0.9 and not check.homoglyph


def test_different_party_scores_low() -> None:
    assert name_similarity("Orion Holdings AB", "Fjord Seafood AB").score < 0.5


@pytest.mark.parametrize(
    "spoof",
    [
        "Nordw\u0456nd Logistik GmbH",  # Cyrillic i
        "N\u043erdwind Logistik GmbH",  # Cyrillic o
        "Nordwind Logistik Gmb\u041d",  # Cyrillic capital En in the legal form
        "\uff2eordwind Logistik GmbH",  # full-width N
        "Nord\u200bwind Logistik GmbH",  # zero-width space
    ],
)
def test_homoglyphs_are_flagged_and_never_accepted(spoof: str) -> None:
    check = name_similarity(spoof, "Nordwind Logistik GmbH")
    assert check.suspicious_chars
    assert check.score <= HOMOGLYPH_SCORE_CAP
    assert check.score < 0.85


def test_spoof_is_flagged_as_homoglyph() -> None:
    assert name_similarity("Nordw\u0456nd Logistik GmbH", "Nordwind Logistik GmbH").homoglyph


def test_a_name_wholly_in_another_script_is_not_a_spoof() -> None:
    assert suspicious_characters("ООО Ромашка") == ()
    assert name_similarity("ООО Ромашка", "ООО Ромашка").score == 1.0
