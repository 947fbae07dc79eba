"""Dutch and English complete: the nl catalogue translates every string, the template is in sync with the
sources, pages render in Dutch for a Dutch browser, and times show the operation's zone in both languages."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from decoy.config import resource_dir
from tests.factories import make_authorization, make_operation, make_profile

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "translations" / "messages.pot"
NL_PO = ROOT / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdifr])")


def _read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _ids(catalog: Catalog) -> set[Any]:
    return {message.id for message in catalog if message.id}


def _placeholders(text: str) -> set[tuple[str, str]]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues() -> None:
    """Compile the catalogues the app reads when a .mo is missing or older than its .po.

    ``pip install`` compiles them through the build hook; a plain checkout may not have done so yet.
    """
    for po_path in Path(resource_dir("translations")).glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = _read(po_path)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


# --- the catalogue ------------------------------------------------------------------------------------


def test_dutch_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    catalog = _read(NL_PO)
    assert catalog.num_plurals == 2
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            fuzzy.append(message.id)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms) or (message.pluralizable and len(forms) != catalog.num_plurals):
            untranslated.append(message.id)
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"
    assert len(_ids(catalog)) > 300


def test_every_translation_keeps_the_placeholders_of_its_msgid() -> None:
    catalog = _read(NL_PO)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            singular, plural = message.id
            expected = _placeholders(singular) | _placeholders(plural)
            for form in message.string:
                if _placeholders(form) != expected:
                    wrong.append((message.id, form))
        elif _placeholders(message.id) != _placeholders(message.string):
            wrong.append((message.id, message.string))
    assert not wrong, wrong
    # Babel's own checks (python-format consistency among them).
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog.check()]
    assert not problems, problems


def test_template_is_in_sync_with_the_sources(tmp_path: Path) -> None:
    """A string added to the code or a template without updating the catalogues fails here."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
            "-k", "_l", "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(extracted), ".",
        ],
        cwd=ROOT, check=True, capture_output=True,
    )
    in_sources = _ids(_read(extracted))
    in_template = _ids(_read(POT))
    in_dutch = _ids(_read(NL_PO))
    missing = in_sources - in_template
    stale = in_template - in_sources
    assert not missing, f"run scripts/update-translations and translate: {sorted(map(str, missing))[:20]}"
    assert not stale, f"run scripts/update-translations: {sorted(map(str, stale))[:20]}"
    assert in_dutch == in_template, sorted(map(str, in_dutch ^ in_template))[:20]


# --- pages in Dutch -----------------------------------------------------------------------------------


@pytest.fixture
def dutch(client: Any) -> Any:
    """The test client of a browser that prefers Dutch."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    return client


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _assert_no_english(html: str, *phrases: str) -> None:
    leftovers = [phrase for phrase in phrases if re.search(rf">\s*{re.escape(phrase)}\s*<", html)]
    assert not leftovers, f"English on a Dutch page: {leftovers}"


def test_sign_in_page_in_dutch(dutch: Any) -> None:
    html = _text(dutch.get("/login"))
    assert '<html lang="nl">' in html
    for phrase in ("Aanmelden", "Gebruikersnaam", "Wachtwoord", "Doorgaan", "Naar de inhoud"):
        assert phrase in html, phrase
    _assert_no_english(html, "Sign in", "Username", "Password", "Continue", "Skip to content")


def test_sign_in_page_in_english_by_default(client: Any) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    html = _text(client.get("/login"))
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html
    assert "Aanmelden" not in html


def test_home_page_in_dutch(dutch: Any, factory: Any, auth: Any, app: Any) -> None:
    factory.user("sara", "supervisor")
    factory.user("lena", "legal")
    operation_id = make_operation(app, "sara", name="Operatie Lantaarn")
    make_authorization(app, "lena", operation_id)
    auth.login("sara")
    html = _text(dutch.get("/"))
    for phrase in ("Welkom", "Uw operaties", "Operaties", "Afmelden", "teamleider", "gepland",
                   "Profielen die op uw goedkeuring wachten"):
        assert phrase in html, phrase
    _assert_no_english(html, "Your operations", "Operations", "Sign out", "planned", "Home",
                       "Profiles awaiting your approval", "No profile awaits your approval.")


def test_operation_page_in_dutch(dutch: Any, factory: Any, auth: Any, app: Any) -> None:
    factory.user("sara", "supervisor")
    factory.user("lena", "legal")
    operation_id = make_operation(app, "sara", name="Operatie Lantaarn")
    authorization_id = make_authorization(app, "lena", operation_id)
    make_profile(app, operation_id, authorization_id, proposer="sara")
    auth.login("sara")
    html = _text(dutch.get(f"/operations/{operation_id}"))
    for phrase in ("Machtigingen", "Bevel van de officier van justitie", "geldig", "Lokprofielen",
                   "wacht op goedkeuring", "Toetsingstermijn", "30 dagen", "Leden", "gepland",
                   # The proposer may not approve: the refusal names the rule, in Dutch.
                   "vier-ogenprincipe"):
        assert phrase in html, phrase
    _assert_no_english(html, "Authorizations", "Order of the public prosecutor", "valid", "Decoy profiles",
                       "pending approval", "pending_approval", "Members", "planned", "Approve")
    assert "four-eyes rule" not in html
    assert "wacht op goedkeuring · voorgesteld" in html and "· proposed" not in html
    # 2026-03-01 09:00 UTC is 10:00 in Amsterdam, in winter time.
    assert "2026-03-01 10:00:00 CET" in html


def test_refusal_and_error_page_in_dutch(dutch: Any, factory: Any, auth: Any, app: Any) -> None:
    factory.user("sara", "supervisor")
    auth.login("sara")
    html = _text(dutch.get("/operations/999999"))
    assert "Niet gevonden" in html
    assert "deze operatie bestaat niet" in html
    assert "Terug naar de startpagina" in html
    _assert_no_english(html, "Back to the start page")
    assert "no such operation" not in html
    # Werkzeug's and Flask-WTF's English explanations are replaced on HTML pages.
    html = _text(dutch.get("/no-such-page"))
    assert "De pagina bestaat niet" in html and "requested URL" not in html
    html = _text(dutch.post("/logout"))
    assert "Het formulier is verlopen" in html and "CSRF" not in html
    # The API keeps its English explanation.
    answer = dutch.get("/api/no-such-thing", headers={"Accept": "application/json"})
    assert "requested URL" in answer.get_json()["error"]["message"]


def test_service_refusals_stay_english_for_an_english_caller(client: Any, factory: Any, auth: Any,
                                                            app: Any) -> None:
    factory.user("sara", "supervisor")
    factory.user("lena", "legal")
    operation_id = make_operation(app, "sara")
    authorization_id = make_authorization(app, "lena", operation_id)
    make_profile(app, operation_id, authorization_id, proposer="sara")
    auth.login("sara")
    html = _text(client.get(f"/operations/{operation_id}"))
    assert "four-eyes rule: the supervisor who proposed a profile may not approve it" in html
    assert "pending approval" in html


# --- times --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
def test_times_show_the_operations_zone_in_both_languages(app: Any, language: str) -> None:
    from decoy.clock import localtime

    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert localtime(winter, "Europe/Amsterdam") == "2026-01-15 13:00:00 CET"
        assert localtime(summer, "Europe/Amsterdam") == "2026-07-15 14:00:00 CEST"
        assert localtime(summer, "America/Curacao") == "2026-07-15 08:00:00 AST"
        assert localtime(winter, "Europe/Amsterdam", with_zone=False) == "2026-01-15 13:00:00"
        assert localtime(None) == "—"


def test_emails_are_extracted_and_render_in_dutch(app: Any) -> None:
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale

    p = SimpleNamespace(operation="Lantaarn", due_local="2026-03-09 10:00:00 CET",
                        timezone="Europe/Amsterdam", link="https://decoy.example/reviews/1")
    with app.app_context(), force_locale("nl"):
        text = render_template("emails/review_reminder.txt", p=p, review_kind="periodieke toetsing")
    assert "Een juridische toetsing van “Lantaarn” moet worden uitgevoerd." in text
    assert "Openen in Decoy" in text and "Open in Decoy" not in text
