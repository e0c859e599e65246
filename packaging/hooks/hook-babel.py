"""babel for medama_py: English CLDR names only; replaces PyInstaller's hook (all 1,000+ locales, 32 MB).

medama_py asks only `Locale("en")` for language, script and territory names (ingest/locale.py). Babel
resolves "en" through its parent "root", and reads global.dat for aliases and likely subtags.
"""

from __future__ import annotations

from importlib import util
from pathlib import Path

_spec = util.find_spec("babel")
if _spec is None or _spec.origin is None:
    raise ImportError("babel is not installed")
_BABEL = Path(_spec.origin).parent

datas: list[tuple[str, str]] = [
    (str(_BABEL / "global.dat"), "babel"),
    *((str(_BABEL / "locale-data" / f"{name}.dat"), "babel/locale-data") for name in ("root", "en")),
]
# The pickled locale data refers to classes in babel.dates and babel.numbers.
hiddenimports = ["babel.core", "babel.dates", "babel.localedata", "babel.numbers", "babel.plural"]
