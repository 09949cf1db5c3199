"""Keep the catalogues in step with the code: ``python scripts/i18n.py update|compile|check``.

update  extract every string, merge into zh_Hans_CN and en, and fill the English catalogue
        (msgids are English, so msgstr = msgid; plural forms likewise)
compile build the .mo files the app loads
check   fail if any message of either catalogue is untranslated or fuzzy
"""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "tracker" / "translations"
POT = ROOT / "build" / "messages.pot"  # generated on every update, not kept in git
LOCALES = ("zh_Hans_CN", "en")


def pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def catalogue_path(locale):
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def update():
    POT.parent.mkdir(exist_ok=True)
    pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
            "-o", str(POT), ".")
    for locale in LOCALES:
        if catalogue_path(locale).exists():
            pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale,
                    "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale)
    fill_english()


def fill_english():
    path = catalogue_path("en")
    with path.open("rb") as f:
        catalogue = read_po(f, locale="en")
    for message in catalogue:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        if isinstance(message.id, tuple):
            message.string = tuple(message.id)
        else:
            message.string = message.id
    with path.open("wb") as f:
        write_po(f, catalogue, sort_output=True, no_location=True)


def missing(locale):
    with catalogue_path(locale).open("rb") as f:
        catalogue = read_po(f, locale=locale)
    out = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id)
    return out


def check():
    bad = {locale: missing(locale) for locale in LOCALES}
    for locale, ids in bad.items():
        for msgid in ids:
            print(f"{locale}: untranslated or fuzzy: {msgid!r}")
    return 1 if any(bad.values()) else 0


def compile_catalogues():
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "compile":
        compile_catalogues()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
