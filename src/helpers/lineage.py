"""Lineage: the notebook cell and the helper function behind every published table, figure and number.

A static reading of the notebooks (the executed ``.ipynb`` sources, parsed with :mod:`ast`,
nothing is run): every call of ``outputs.publish`` / ``outputs.write_table`` (a table),
``outputs.save_figure`` (a figure) and ``outputs.record_numbers`` (a section of
``numbers.json``) in a code cell, with the value it publishes traced back through the
notebook's assignments to the helper calls (``describe.*``, ``stats.*``...) that computed
it.  Plumbing calls that only stack results (:data:`COMBINERS`) are looked through to the
calls that fed them.  A name built with an f-string (``f"country_{iso3}_scores"``) becomes
a pattern.  Each function is named by the module that defines it (read from its package's
``__init__``), so any output is two hops from its code: report -> notebook cell -> function.

A key of ``numbers.json`` recorded from a merge of several helpers' mappings is given to the
one helper whose source names it (a string literal, or the fixed start of an f-string);
when none or several do, all of them are listed.

Imports: helpers.paths, helpers.io.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from . import paths

_HELPERS = Path(__file__).resolve().parent

#: The calls of ``outputs`` that publish something: (kind, position of the name, of the value).
PUBLISHERS: dict[str, tuple[str, int, int]] = {
    "publish": ("table", 1, 0),
    "write_table": ("table", 1, 0),
    "save_figure": ("figure", 1, 0),
    "record_numbers": ("numbers", 0, 1),
}
#: Calls that compute or draw through a memo: (module.function, position of the helper function passed).
MEMOS: dict[str, int] = {"cache.result": 0, "cache.figure": 1}
#: Helpers that stack other results: lineage goes through them to what fed them.
COMBINERS: frozenset[str] = frozenset({"stats.combine", "stats.merge_numbers", "outputs.suppress",
                                       "outputs.clean_numbers"})


@dataclass(frozen=True)
class Origin:
    """Where one output comes from: notebook, cell (1-based, as JupyterLab counts), line in it, functions."""

    notebook: str
    cell: int
    line: int
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One publishing call: what kind, its name (a regex when built from an f-string), where it is."""

    kind: str
    name: str
    pattern: str
    origin: Origin
    #: numbers only: the top-level keys the notebook writes itself (``{**numbers, "synthetic": x}``).
    keys: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _name_of(node: ast.AST) -> tuple[str, str] | None:
    """(display name, regex) of a literal or f-string name; None when it is neither."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        shown, rx = [], []
        for part in node.values:
            if isinstance(part, ast.Constant):
                shown.append(str(part.value))
                rx.append(re.escape(str(part.value)))
            else:
                shown.append("{" + (ast.unparse(part.value) if isinstance(part, ast.FormattedValue) else "?") + "}")
                rx.append("[^/.]+")
        return "".join(shown), "".join(rx)
    return None


class _Notebook:
    """Walks the code cells in order, keeping what produced each variable."""

    def __init__(self, name: str, helpers: set[str]):
        self.name = name
        self.helpers = helpers  # the names of helpers modules the notebook imported
        self.env: dict[str, tuple[str, ...]] = {}
        self.entries: list[Entry] = []

    def producers(self, node: ast.AST | None) -> tuple[str, ...]:
        """The helper functions that computed an expression (looking through names and combiners)."""
        if node is None:
            return ()
        if isinstance(node, ast.Name):
            return self.env.get(node.id, ())
        if isinstance(node, ast.Call):
            func = _dotted(node.func)
            if func in MEMOS and len(node.args) > MEMOS[func]:
                inner = _dotted(node.args[MEMOS[func]])
                return (inner,) if inner and inner.split(".")[0] in self.helpers else ()
            if func and func.split(".")[0] in self.helpers and func.count(".") == 1:
                if func not in COMBINERS:
                    return (func,)
                return self._union([*node.args, *(k.value for k in node.keywords)])
            if isinstance(node.func, ast.Attribute):  # x.assign(...), frame.T(...): the object's producers
                return self._union([node.func.value, *node.args])
            return self._union(node.args)
        if isinstance(node, ast.Attribute | ast.Subscript):
            return self.producers(node.value)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self._union(node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.producers(node.elt)
        if isinstance(node, ast.Dict):
            return self._union([v for v in node.values])
        if isinstance(node, ast.BinOp):
            return self._union([node.left, node.right])
        return ()

    def _union(self, nodes) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for n in nodes:
            out.update(dict.fromkeys(self.producers(n)))
        return tuple(out)

    def cell(self, number: int, tree: ast.Module) -> None:
        for stmt in tree.body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call):
                    self._publishing(number, node)
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                made = self.producers(stmt.value)
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and n.id != "_":
                            self.env[n.id] = made

    def _publishing(self, number: int, call: ast.Call) -> None:
        func = _dotted(call.func) or ""
        mod, _, verb = func.rpartition(".")
        if func == "cache.figure" and "cache" in self.helpers:
            kind, at_name, at_value = "figure", 0, 0  # cache.figure(name, plot, ...): the value is the call
        elif mod in self.helpers and mod != "cache" and verb in PUBLISHERS:
            kind, at_name, at_value = PUBLISHERS[verb]
        else:
            return
        if len(call.args) <= max(at_name, at_value):
            return
        named = _name_of(call.args[at_name])
        if named is None:
            return
        value = call if func == "cache.figure" else call.args[at_value]
        keys: list[tuple[str, tuple[str, ...]]] = []
        made = self.producers(value)
        if kind == "numbers" and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    keys.append((k.value, self.producers(v) or (f"{self.name} (set in the notebook)",)))
            made = self._union([v for k, v in zip(value.keys, value.values, strict=True) if k is None])
        origin = Origin(self.name, number, call.lineno, made)
        self.entries.append(Entry(kind, named[0], named[1], origin, tuple(keys)))


def _code_cells(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text())
    out = []
    for i, c in enumerate(nb.get("cells", []), start=1):
        if c.get("cell_type") == "code":
            src = "".join(c.get("source", []))
            # IPython magics and shell lines are not Python
            src = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())
            out.append((i, src))
    return out


def notebook_entries(path: Path) -> list[Entry]:
    """Every publishing call of one notebook, in cell order."""
    cells = _code_cells(path)
    helpers: set[str] = set()
    for _, src in cells:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ImportFrom) and node.module == "helpers":
                helpers.update(a.asname or a.name for a in node.names)
    walker = _Notebook(path.stem, helpers)
    for number, src in cells:
        walker.cell(number, ast.parse(src))
    return walker.entries


def entries(notebooks: Path | None = None) -> list[Entry]:
    """The publishing calls of every notebook template under ``notebooks``."""
    folder = notebooks or paths.ROOT / "notebooks"
    return [e for p in sorted(folder.glob("[0-9]*.ipynb")) for e in notebook_entries(p)]


# ------------------------------------------------------------------- functions, by their module


@cache
def _exports(package: str) -> dict[str, str]:
    """name -> defining module, for a helpers package (its ``__init__`` re-exports) or a module."""
    init = _HELPERS / package / "__init__.py"
    if not init.exists():
        return {}
    out = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"helpers.{package}.{node.module}"
    return out


def qualified(function: str) -> str:
    """``stats.fit_did`` -> ``helpers.stats.panel.fit_did``: the module that defines it."""
    mod, _, name = function.partition(".")
    if not name:
        return function
    return f"{_exports(mod).get(name, f'helpers.{mod}')}.{name}"


def _source_file(module: str) -> Path | None:
    base = _HELPERS.parent
    for p in (base / Path(*module.split(".")).with_suffix(".py"), base / Path(*module.split(".")) / "__init__.py"):
        if p.exists():
            return p
    return None


@cache
def _strings(function: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """String literals and fixed f-string starts in a helper function's source (for key attribution)."""
    module, _, name = qualified(function).rpartition(".")
    src = _source_file(module)
    if src is None:
        return frozenset(), ()
    for node in ast.walk(ast.parse(src.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            lits = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            starts = tuple(str(n.values[0].value) for n in ast.walk(node) if isinstance(n, ast.JoinedStr)
                           and n.values and isinstance(n.values[0], ast.Constant) and str(n.values[0].value))
            return frozenset(lits), starts
    return frozenset(), ()


def key_functions(key: str, functions: tuple[str, ...]) -> tuple[str, ...]:
    """The helpers that produced one numbers key, among those that built its mapping."""
    if len(functions) < 2:
        return functions
    named = tuple(f for f in functions if key in _strings(f)[0])
    if len(named) == 1:
        return named

    def prefix(f: str) -> int:  # the longest fixed start of a key the function's source holds
        lits, starts = _strings(f)
        return max((len(s) for s in (*lits, *starts) if len(s) >= 3 and key.startswith(s)), default=0)

    best = max(prefix(f) for f in functions)
    named = tuple(f for f in functions if best and prefix(f) == best)
    return named if len(named) == 1 else functions


# ------------------------------------------------------------------- the published outputs


def rows(reports: Path | None = None, notebooks: Path | None = None) -> list[dict[str, str]]:
    """One row per published table, figure and number found under ``reports``, with its origin.

    An output that no notebook cell accounts for gets empty origin columns (the test fails on it).
    """
    reports = reports or paths.REPORTS
    found = entries(notebooks)
    out: list[dict[str, str]] = []

    def row(output: str, kind: str, origin: Origin | None, functions: tuple[str, ...] | None = None) -> None:
        fns = origin.functions if functions is None and origin else (functions or ())
        out.append({
            "output": output, "kind": kind,
            "notebook": f"notebooks/{origin.notebook}.ipynb" if origin else "",
            "cell": str(origin.cell) if origin else "",
            "function": "; ".join(qualified(f) for f in fns),
        })

    def match(kind: str, stem: str) -> Entry | None:
        return next((e for e in found if e.kind == kind and re.fullmatch(e.pattern, stem)), None)

    for p in sorted((reports / "tables").glob("*.csv")):
        e = match("table", p.stem)
        row(f"tables/{p.name}", "table", e.origin if e else None)
    for p in sorted((reports / "figures").glob("*.png")):
        e = match("figure", p.stem)
        row(f"figures/{p.stem}.png/.svg", "figure", e.origin if e else None)
    for p in sorted((reports / "figures").glob("*/*.png")):  # the same figure in another language (--lang fr)
        e = match("figure", p.stem)
        row(f"figures/{p.parent.name}/{p.name}", "figure", e.origin if e else None)
    numbers = reports / "numbers.json"
    if numbers.exists():
        for section, values in json.loads(numbers.read_text()).items():
            e = match("numbers", section)
            own = dict(e.keys) if e else {}
            for key in values if isinstance(values, dict) else []:
                if e is None:
                    row(f"numbers.json: {section}.{key}", "number", None)
                elif key in own:
                    row(f"numbers.json: {section}.{key}", "number", e.origin, own[key])
                else:
                    row(f"numbers.json: {section}.{key}", "number", e.origin,
                        key_functions(key, e.origin.functions))
    return out


def display(function: str) -> str:
    """``helpers.stats.panel.fit_did`` -> ``stats.panel.fit_did`` (for the report)."""
    return function.removeprefix("helpers.")


def grouped(found: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The rows with one per country folded into one (``country_{ISO3}``), counted: what the report shows."""
    counts: Counter[tuple[str, str, str, str, str]] = Counter()
    for r in found:
        shown = re.sub(r"country_[A-Z]{3}", "country_{ISO3}", r["output"])
        if r["kind"] == "number":
            section = shown.removeprefix("numbers.json: ").split(".", 1)[0]
            shown = f"numbers.json: {section}.*"
        counts[(shown, r["kind"], r["notebook"], r["cell"], r["function"])] += 1
    keys = ("output", "kind", "notebook", "cell", "function")
    return [{**dict(zip(keys, k, strict=True)), "count": n} for k, n in counts.items()]


def write(reports: Path, notebooks: Path) -> tuple[Path, list[dict[str, str]]]:
    """Write ``reports/lineage.csv`` (every output, one row each) atomically; return it and the rows."""
    import csv
    import io as _io

    from .io import write_text

    found = rows(reports, notebooks)
    buf = _io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["output", "kind", "notebook", "cell", "function"], lineterminator="\n")
    w.writeheader()
    w.writerows(found)
    return write_text(reports / "lineage.csv", buf.getvalue()), found
