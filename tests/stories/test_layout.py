"""The package shows the pipeline: one folder per stage, imports only go backwards.

Every `import` in `releaser/` is read with `ast` (those inside functions too,
which is where the lazy ones are), and the test fails on an import cycle between
modules or on a module that imports a later stage than its own.
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
