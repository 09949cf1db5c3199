"""Both catalogues are complete, and the code has no string that the catalogues lack."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def _catalogue(locale):
    with open(ROOT / "tracker" / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def test_every_extracted_string_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    for locale in ("zh_Hans_CN", "en"):
        catalogue = _catalogue(locale)
        translated = {
            m.id for m in catalogue
            if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else (m.string,))
        }
        missing = extracted - translated
        assert not missing, f"{locale} lacks translations for: {sorted(map(str, missing))[:20]}"


def test_wtforms_messages_follow_the_locale(client):
    zh = client.post("/login", data={}, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.post("/login", data={}, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This field is required." in en
    assert "This field is required." not in zh
