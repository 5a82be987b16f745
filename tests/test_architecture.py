"""The architecture as a test: imports go one way, there are no cycles, no module borrows
another's private names, and no module grows past about 600 lines.

The layers (a module may import its own layer and the ones below, never one above; lazy
imports inside functions count too):

0. ``paths``, ``settings``, ``io``, ``provenance``, ``i18n``: files, settings, hashes and versions, languages;
1. ``loader``, ``scheme``, ``scoring``, ``scored``, ``design``, ``disclosure``: the data and its scores;
2. ``stats``, ``describe``, ``synthetic``: the analysis;
3. ``outputs``, ``cache``, ``nbcheck``: publishing what the notebooks compute, their memo cache and
   regression-check hooks;
   the notebooks (``notebooks/*.py``) sit here: they may import layers 0-3;
4. ``runner`` (with its ``pool`` of kept kernels), ``report``, ``lineage``, ``checks``, ``bench``, ``cli``, ``verify``, ``validate_mc``, ``validate_lead``:
   the tools that run notebooks and check or assemble what they wrote.

The check is a small AST walk (no import of the code), so it also sees imports that only
run in one branch.  ``test_a_planted_wrong_way_import_fails`` shows that it can fail.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "helpers"
NOTEBOOKS = ROOT / "notebooks"

LAYERS: dict[str, int] = {
    **dict.fromkeys(("paths", "settings", "io", "provenance", "i18n"), 0),
    **dict.fromkeys(("loader", "scheme", "scoring", "scored", "design", "disclosure"), 1),
    **dict.fromkeys(("stats", "describe", "synthetic"), 2),
    **dict.fromkeys(("outputs", "nbcheck", "cache"), 3),
    **dict.fromkeys(("runner", "report", "checks", "bench", "cli", "verify", "validate_mc", "validate_lead",
                     "lineage"), 4),
}
NOTEBOOK_LAYER = 3
#: "About 600 lines": the limit a module may not pass.
MAX_LINES = 650


def module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(package: Path) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}


def _resolve(mod: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_package else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(mod: str, path: Path, known: set[str]) -> list[tuple[str, int, list[str]]]:
    """(imported helpers module, line, names taken from it) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, []) for a in node.names if a.name.split(".")[0] == "helpers"]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(mod, path.name == "__init__.py", node)
            if target.split(".")[0] != "helpers":
                continue
            plain = []
            for a in node.names:
                if f"{target}.{a.name}" in known:  # from . import paths: the module itself
                    out.append((f"{target}.{a.name}", node.lineno, []))
                else:
                    plain.append(a.name)
            if plain:
                out.append((target, node.lineno, plain))
    return out


def layer(mod: str) -> int | None:
    parts = mod.split(".")
    return 0 if len(parts) == 1 else LAYERS.get(parts[1])


def violations(package: Path = PACKAGE, notebooks: Path | None = NOTEBOOKS) -> list[str]:
    """Every breach of the rules above, as readable lines (empty when the code keeps them)."""
    found: list[str] = []
    mods = modules(package)
    known = set(mods)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        where = path.relative_to(package.parent.parent)
        n_lines = len(path.read_text().splitlines())
        if n_lines > MAX_LINES:
            found.append(f"{where}: {n_lines} lines, over {MAX_LINES}: split it by idea")
        own = layer(mod)
        if own is None:
            found.append(f"{where}: module {mod} has no layer; add it to LAYERS in tests/test_architecture.py")
            continue
        for target, line, names in imports(mod, path, known):
            theirs = layer(target)
            if theirs is not None and theirs > own:
                found.append(f"{where}:{line}: {mod} (layer {own}) imports {target} (layer {theirs}): "
                             "imports go down the layers only")
            for name in names:
                if name.startswith("_") and not name.startswith("__") and target != mod:
                    found.append(f"{where}:{line}: {mod} imports the private name {name} of {target}")
            if target in graph and target != mod:
                graph[mod].add(target)
    for cycle in _cycles(graph):
        found.append("import cycle: " + " -> ".join([*cycle, cycle[0]]))
    if notebooks is not None:
        for nb in sorted(notebooks.glob("*.py")):
            for target, line, _ in imports("notebook", nb, known):
                theirs = layer(target)
                if theirs is not None and theirs > NOTEBOOK_LAYER:
                    found.append(f"notebooks/{nb.name}:{line}: a notebook imports {target} (layer {theirs}); "
                                 f"notebooks may import layers 0-{NOTEBOOK_LAYER}")
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_helpers_keep_the_architecture():
    assert violations() == []


def test_every_module_says_its_one_idea_first():
    missing = [str(p.relative_to(ROOT)) for p in modules(PACKAGE).values()
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def declared_imports(doc: str) -> set[str] | None:
    """The helpers modules a docstring's ``Imports:`` paragraph names (None without one)."""
    m = re.search(r"^Imports:(.*?)(?:\n\s*\n|\Z)", doc, re.S | re.M)
    return None if m is None else set(re.findall(r"helpers(?:\.[a-z_][a-z0-9_]*)+", m.group(1)))


def test_every_module_says_what_it_imports_and_says_it_truly():
    mods = modules(PACKAGE)
    wrong = {}
    for mod, path in mods.items():
        if path.name in ("__init__.py", "__main__.py"):
            continue
        actual = {target for target, _, _ in imports(mod, path, set(mods)) if target != mod}
        said = declared_imports(ast.get_docstring(ast.parse(path.read_text())) or "")
        if said != actual:
            wrong[mod] = (sorted(said) if said is not None else "no Imports: line", sorted(actual))
    assert wrong == {}


@pytest.fixture
def copy(tmp_path):
    dest = tmp_path / "src" / "helpers"
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _plant(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code + "\n")


def test_a_planted_wrong_way_import_fails(copy):
    assert violations(copy, None) == []
    _plant(copy / "stats" / "contract.py", "def publish_now():\n    from ..outputs import publish\n    return publish")
    found = violations(copy, None)
    assert any("helpers.stats.contract (layer 2) imports helpers.outputs (layer 3)" in v for v in found), found


def test_a_planted_cycle_and_a_borrowed_private_name_fail(copy):
    _plant(copy / "scheme.py", "from .scoring import score  # noqa")
    _plant(copy / "outputs.py", "from .paths import _private_thing  # noqa")
    found = violations(copy, None)
    assert any(v.startswith("import cycle:") and "helpers.scheme" in v and "helpers.scoring" in v
               for v in found), found
    assert any("imports the private name _private_thing of helpers.paths" in v for v in found), found


def test_a_notebook_may_not_import_the_runner(tmp_path, copy):
    (tmp_path / "nb.py").write_text("from helpers import runner\n")
    assert any("a notebook imports helpers.runner" in v for v in violations(copy, tmp_path))


def test_a_module_over_the_limit_fails(copy):
    _plant(copy / "paths.py", "\n".join(f"X{i} = {i}" for i in range(MAX_LINES)))
    assert any("paths.py" in v and "over" in v for v in violations(copy, None))
