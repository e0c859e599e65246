"""docs/ stays true to the tree: the module map, the layers, and every docs/...#section a comment cites.

When a test here fails, its message says which line of docs/architecture.md (or which citation) to change.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "medama_py"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# Where comments and docstrings cite docs/: the code, its tests and tools, and the README.
CITING = ("medama_py", "tests", "bench", "packaging", "scripts", "dashboard/src", "tracker/src")
CITING_SUFFIXES = {".py", ".ts", ".tsx", ".js", ".lua", ".sh", ".css", ".html"}
CITATION = re.compile(r"docs/([a-z_]+\.md)#([a-z0-9-]+)")
# Rule sources that are not part of the repository: a newcomer cannot open them.
OUTSIDE = re.compile(r"\.\./shared|\bspec/[a-z]|DECISIONS|(?<![\w/])(?:api|stats|tracker|umami|dashboard)\.md\b")
MAP_TOKEN = re.compile(r"`([A-Za-z_][\w]*(?:\.py|/))`")


def _section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/architecture.md has no '## {heading}' section"
    return match.group(1)


def _bullets(section: str) -> list[str]:
    """The top-level bullets of a section, each with its continuation lines."""
    return [bullet for bullet in re.split(r"^- ", section, flags=re.MULTILINE)[1:] if bullet.strip()]


def _modules() -> list[Path]:
    """Every module of the package, relative to it, package __init__ files left out (the folder names them)."""
    paths = sorted(path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)
    return [path for path in paths if path.name != "__init__.py"]


def _packages() -> set[str]:
    return {path.name for path in PACKAGE.rglob("*") if path.is_dir() and (path / "__init__.py").exists()}


def _bullet_of(package: str, bullets: list[str]) -> str | None:
    """The first bullet of the map that names `package/`: it lists the package's modules."""
    return next((bullet for bullet in bullets if f"`{package}/`" in bullet), None)


def _tokens(text: str) -> set[str]:
    return set(MAP_TOKEN.findall(text))


def test_module_map_names_every_module() -> None:
    """Each module is in docs/architecture.md#module-map: a top-level one anywhere, a packaged one in its bullet."""
    bullets = _bullets(_section(ARCHITECTURE.read_text(), "Module map"))
    everywhere = _tokens("".join(bullets))
    missing = []
    for module in _modules():
        if len(module.parts) == 1:
            named = module.name in everywhere
            where = "the bullet where it belongs"
        else:
            bullet = _bullet_of(module.parts[0], bullets)
            named = bullet is not None and {*module.parts[1:-1], module.name} <= {
                part.rstrip("/") if part.endswith("/") else part for part in _tokens(bullet)
            }
            where = f"the bullet of `{module.parts[0]}/`"
        if not named:
            missing.append(f"medama_py/{module}: add `{module.name}` (what it holds, a few words) to {where}")
    assert not missing, "docs/architecture.md#module-map does not name:\n" + "\n".join(missing)


def test_module_map_names_nothing_that_is_gone() -> None:
    """Every `name.py` and `folder/` in the module map still exists under medama_py/."""
    section = _section(ARCHITECTURE.read_text(), "Module map")
    modules = {path.name for path in PACKAGE.rglob("*.py")}
    stale = sorted(
        token
        for token in _tokens(section)
        if (token.endswith("/") and token[:-1] not in _packages()) or (token.endswith(".py") and token not in modules)
    )
    assert not stale, (
        "docs/architecture.md#module-map names modules that are no longer under medama_py/: "
        f"{', '.join(stale)}: remove them or write their new names"
    )


def _documented_layers() -> list[set[str]]:
    """The layer diagram of docs/architecture.md#layers: one set per line that starts with module names.

    The names stand first, one space apart; two spaces or more start the line's description.
    """
    block = _section(ARCHITECTURE.read_text(), "Layers").split("```")[1]
    layers = []
    for line in block.splitlines():
        if line and not line.startswith(" "):
            names = re.match(r"([\w.]+(?:\.py|/)(?: [\w.]+(?:\.py|/))*)(?:  |$)", line)
            assert names, f"docs/architecture.md#layers: a line that names no module: {line!r}"
            layers.append({name.removesuffix(".py").removesuffix("/") for name in names.group(1).split()})
    return layers


def _contract_layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def test_documented_layers_are_the_import_linter_layers() -> None:
    """docs/architecture.md#layers draws the same layers, in the same order, as the contract `make lint` checks."""
    documented, checked = _documented_layers(), _contract_layers()
    assert documented == checked, (
        "docs/architecture.md#layers and [tool.importlinter] in pyproject.toml disagree; make the diagram's lines "
        f"match the contract's layers, top first:\n  documented: {documented}\n  checked:    {checked}"
    )


def test_every_module_attribute_named_in_architecture_exists() -> None:
    """`module.name` in docs/architecture.md (e.g. `ingest/recorder.record_hit`) is defined in that module.

    Names whose first part is not a module of medama_py (`gc.freeze`, `views.duration_ms`) are not code references.
    """
    named = set(re.findall(r"`([a-z_]+(?:/[a-z_]+)*)\.([A-Za-z_]\w*)`", ARCHITECTURE.read_text()))
    gone = []
    for module, name in sorted(named):
        path = next((p for p in (PACKAGE / f"{module}.py", PACKAGE / module / "__init__.py") if p.is_file()), None)
        if path is None or name in {"py", "md"}:
            continue
        definition = rf"^\s*(?:async def|def|class) {name}\b|^\s*{name}\s*[:=]"
        if not re.search(definition, path.read_text(), flags=re.MULTILINE):
            gone.append(f"`{module}.{name}`: medama_py/{path.relative_to(PACKAGE)} defines no {name}")
    assert not gone, "docs/architecture.md names code that is not there (write its new name):\n" + "\n".join(gone)


def _citing_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile"]
    for folder in CITING:
        files += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.suffix in CITING_SUFFIXES and "node_modules" not in path.parts and "__snapshots__" not in path.parts
        ]
    return files


def _anchors(doc: Path) -> set[str]:
    """The GitHub anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", doc.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_cited_docs_section_exists() -> None:
    """A comment that cites docs/<file>.md#<section> points at a heading that is there."""
    anchors = {doc.name: _anchors(doc) for doc in (ROOT / "docs").glob("*.md")}
    broken = [
        f"{path.relative_to(ROOT)}: docs/{name}#{anchor}"
        for path in _citing_files()
        for name, anchor in CITATION.findall(path.read_text(errors="replace"))
        if anchor not in anchors.get(name, set())
    ]
    assert not broken, "these citations name no heading in docs/ (fix the citation or the heading):\n" + "\n".join(
        broken
    )


def test_code_cites_no_rule_source_outside_the_repository() -> None:
    """Rules are cited as docs/...#section or stated in place, never as a file a newcomer does not have."""
    this_file = Path(__file__).resolve()
    outside = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _citing_files()
        if path != this_file
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert not outside, "cite docs/<file>.md#<section> or state the rule instead of:\n" + "\n".join(outside)
