"""Python migration files read with `ast`, never imported: values, bodies, digests.

A digest is of the syntax tree without docstrings, with the module's imports as a
sorted set and string prefixes dropped: black, isort and ruff format change no
digest, a changed operation does. A file that does not parse (Python 2 syntax in
an old migration) gets a digest of its text without whitespace and a warning.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from typing import Any

_WS = re.compile(rb"\s+")


@dataclass(frozen=True)
class Source:
    """One file of a migrations directory: its path relative to the project root, and its bytes."""

    path: str
    data: bytes

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return self.filename.rsplit(".", 1)[0]


def parse(source: Source) -> tuple[ast.Module | None, str | None]:
    """(the tree, None), or (None, a warning saying why it is read by its name only)."""
    try:
        return ast.parse(source.data, filename=source.path), None
    except SyntaxError as exc:
        why = f"line {exc.lineno}: {exc.msg}" if exc.lineno else exc.msg
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as exc:
        why = type(exc).__name__
    return None, f"{source.path}: does not parse as Python 3 ({why}); read by its name only"


def digest(tree: ast.Module | None, source: Source) -> str:
    """sha256 of the normalized tree (see the module docstring); of the bare text when it did not parse."""
    if tree is None:
        return "sha256:" + hashlib.sha256(_WS.sub(b"", source.data)).hexdigest()
    try:
        dumped = ast.dump(_normalized(tree))
    except RecursionError:
        dumped = repr(_WS.sub(b"", source.data))
    return "sha256:" + hashlib.sha256(dumped.encode("utf-8", "surrogatepass")).hexdigest()


def _normalized(tree: ast.Module) -> ast.Module:
    imports: set[str] = set()
    body = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imports.update(f"import {a.name} as {a.asname}" for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.update(f"from {'.' * node.level}{node.module} import {a.name} as {a.asname}" for a in node.names)
        else:
            body.append(node)
    module = ast.Module(body=[ast.Expr(ast.Constant(sorted(imports)))] + body, type_ignores=[])
    for node in ast.walk(module):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node is not module:
            node.body = _without_docstring(node.body) or [ast.Pass()]
        elif isinstance(node, ast.Constant):
            node.kind = None  # u"" and "" are one string
    module.body = module.body[:1] + _without_docstring(module.body[1:])
    return module


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Name -> value of every plain (`x = ...`) and annotated (`x: T = ...`) assignment; the last wins."""
    found: dict[str, ast.expr] = {}
    for node in body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = node.value
    return found


def literal(node: ast.expr | None) -> Any:
    """The value of a literal expression; `...` (Ellipsis) when it is not one."""
    if node is None:
        return ...
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ...


def strings(value: Any) -> tuple[str, ...] | None:
    """A str, or a list/tuple of str, as a tuple; None for None; raises ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{value!r} is not a revision id or a list of them")


def function(body: list[ast.stmt], name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = node
    return found


def does_nothing(func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """No function, or one whose body is only a docstring, `pass` and `...`."""
    if func is None:
        return True
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in func.body
    )


def raises(func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """A function whose own body (not a nested branch) raises."""
    return func is not None and any(isinstance(s, ast.Raise) for s in func.body)


def aliases(tree: ast.Module, names: set[str]) -> dict[str, str]:
    """Other names `names` go by in `tree`: `from … import RunPython as R`, `R = migrations.RunPython`."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update({a.asname: a.name for a in node.names if a.asname and a.name in names})
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute)):
            value = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            value = found.get(value, value)
            if value in names:
                found.update({t.id: value for t in node.targets if isinstance(t, ast.Name) and t.id != value})
    return found


def dotted(node: ast.expr) -> str | None:
    """`Migration.operations` -> "Migration.operations"; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def call_name(node: ast.expr) -> str | None:
    """`migrations.RunPython(...)` -> "RunPython"; None for anything not a call of a name."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The argument at `position` or named `keyword`, if given."""
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None
