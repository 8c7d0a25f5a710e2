"""The package shows the pipeline: one folder per stage, imports only go backwards.

Every `import` in `releaser/` is read with `ast` (those inside functions too,
which is where the lazy ones are), and the test fails on an import cycle between
modules or on a module that imports a later stage than its own. The stages that
orchestrate (lock onwards) never name a kind of dependency: they ask its ecosystem.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "releaser"

# The stages of a release, in order. A module may import its own stage and the
# ones before it; `cli` (the one command line) may import any. The loopback servers
# (for the demo, tests and benchmarks) live outside the package: the wheel does not ship them.
# `entry` (the console script) answers a plain `releaser check` and hands the rest to `cli`.
STAGES = [
    "core",  # the domain model: config, the lock and its pins, verdicts, errors, the seal
    "plumbing",  # what every stage uses: HTTP, git, pip and venvs, files on disk, credentials
    "ecosystems",  # one package per kind of dependency: its inputs, resolution, verification
    "lock",  # releaser lock, export
    "migrations",  # the migration graph, read statically, and its verdicts
    "check",  # the offline gate
    "record",  # the record of a cut RC: written once, read verified
    "install",  # a pinned set put on disk, verified: venv, files, checkouts, bundles
    "rehearse",  # the upgrade tried on a database
    "cut",  # releaser cut
    "reproduce",  # releaser reproduce, diff
    "site",  # releaser site: the records as pages a person reads
]
TOP_LEVEL = {"__init__", "__main__", "entry"}  # entry: the console script, `check` without cli


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The releaser modules `path` imports; `from releaser.x import y` counts as x.y when y is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "releaser")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "releaser":
            assert node.level == 0, f"{path}: relative import"
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "releaser"


def test_every_folder_is_a_known_stage() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(STAGES) | {"cli"}, folders - set(STAGES)
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL, top - TOP_LEVEL


def test_no_module_imports_a_later_stage() -> None:
    wrong = []
    for module, path in MODULES.items():
        stage = stage_of(module)
        for target in imports_of(path):
            to = stage_of(target)
            if stage in STAGES and to in STAGES and STAGES.index(to) > STAGES.index(stage):
                wrong.append(f"{module} ({stage}) imports {target} ({to}), a later stage")
            elif stage in STAGES and to not in STAGES and target not in ("releaser",):
                wrong.append(f"{module} imports {target}, which only the command line may")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph = {m: {t for t in imports_of(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too.
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, stack + [node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_layering_test_sees_a_violation(tmp_path: Path) -> None:
    """The walker reads function-level imports: a lazy import of a later stage is still found."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from releaser.cut import cutting\n", encoding="utf-8")
    assert imports_of(source) == {"releaser.cut.cutting"}


# -- the stages never name a kind -------------------------------------------------------

# The stages orchestrate; a kind's behaviour is its ecosystem's (`releaser.ecosystems.ecosystem(kind)`).
ORCHESTRATING = STAGES[STAGES.index("lock") :]
# A string that is a kind's name but means something else, with why.
NOT_A_KIND = {
    ("releaser.record.manifest", "python"): "the builder's interpreter version, a field of manifest.json",
    ("releaser.record.showing", "python"): "the same field, shown",
}


def kind_names_used(path: Path, kinds: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, name) of each kind name a module compares with, keys a dict by, or asks `of_kind`,
    `.get` or a subscript for: a stage choosing behaviour by kind."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def named(node: ast.AST | None) -> list[ast.Constant]:
        if isinstance(node, ast.Constant) and node.value in kinds:
            return [node]
        if isinstance(node, (ast.Tuple, ast.Set, ast.List)):
            return [e for e in node.elts if isinstance(e, ast.Constant) and e.value in kinds]
        return []

    found: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            found += [c for c in (node.left, *node.comparators) if isinstance(c, ast.Constant) and c.value in kinds]
            found += [c for op, right in zip(node.ops, node.comparators) if isinstance(op, (ast.In, ast.NotIn)) for c in named(right)]
        elif isinstance(node, ast.Dict):
            found += [c for key in node.keys for c in named(key) if isinstance(key, ast.Constant)]
        elif isinstance(node, ast.Subscript):
            found += named(node.slice) if isinstance(node.slice, ast.Constant) else []
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("of_kind", "get"):
            found += named(node.args[0]) if node.args and isinstance(node.args[0], ast.Constant) else []
        elif isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Name) and node.func.id == "of_kind":
            found += named(node.args[0]) if isinstance(node.args[0], ast.Constant) else []
    return sorted((c.lineno, str(c.value)) for c in found)


def test_no_stage_names_a_kind() -> None:
    from releaser.core.kinds import KINDS

    wrong = []
    for module, path in MODULES.items():
        if stage_of(module) not in ORCHESTRATING:
            continue
        for line, name in kind_names_used(path, KINDS):
            if (module, name) not in NOT_A_KIND:
                wrong.append(f"{module}:{line} names the kind {name!r}: ask its ecosystem instead")
    assert not wrong, "\n".join(wrong)


def test_the_kind_rule_sees_a_stage_naming_a_kind(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        'def f(pin, lock, by):\n'
        '    if pin.kind == "maven": pass\n'
        '    lock.of_kind("git")\n'
        '    x = {"python": 1}\n'
        '    if pin.kind in ("artifact", "other"): pass\n'
        '    by.get("git"); by["maven"]\n'
        '    argv = ["python", "-m", "build"]\n',  # a command, not a kind: not counted
        encoding="utf-8",
    )
    assert kind_names_used(source, ("python", "maven", "git", "artifact")) == [
        (2, "maven"), (3, "git"), (4, "python"), (5, "artifact"), (6, "git"), (6, "maven"),
    ]
