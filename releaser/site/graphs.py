"""A drawing of one app's migration graph around what an RC added: its new migrations, what
they stand on, and the app's heads, layered oldest left to newest right (SVG).

Only the neighbourhood is drawn (an app with 300 migrations would be a wall): every
migration within `REACH` edges of a new one, and every head. A merge (two or more
parents in the app) is drawn as a diamond, a head with a heavy border, a new
migration filled; an edge to a migration left out is a short stub.
"""

from __future__ import annotations

from html import escape

from releaser.migrations.graph import Graph, Key
from releaser.site.svg import _n

REACH = 2
COLUMN, ROW, NODE_W, NODE_H = 150, 40, 128, 24


def app_drawing(graph: Graph, app: str, new: set[Key]) -> str:
    """The SVG of `app`'s graph around `new` (its keys that this RC added)."""
    parents = {k: {p for p in ps if p[0] == app} for k, ps in graph.effective_parents().items() if k[0] == app}
    heads = {(app, name) for name in graph.heads().get(app, ())}
    children: dict[Key, set[Key]] = {}
    for node, ps in parents.items():
        for p in ps:
            children.setdefault(p, set()).add(node)
    shown = _near(parents, children, {k for k in new if k in parents}) | heads
    depth = _depths(parents, shown)
    columns: dict[int, list[Key]] = {}
    for node in sorted(shown, key=lambda k: (depth[k], k[1])):
        columns.setdefault(depth[node], []).append(node)
    order = sorted(columns)
    where: dict[Key, tuple[float, float]] = {}
    for ci, level in enumerate(order):
        for ri, node in enumerate(columns[level]):
            where[node] = (12 + ci * COLUMN, 12 + ri * ROW)
    width = 24 + max(len(order) - 1, 0) * COLUMN + NODE_W
    height = 24 + max((len(c) for c in columns.values()), default=1) * ROW - (ROW - NODE_H)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width} {height}" width="{width}" '
        f'role="img" aria-label="{escape(f"migration graph of {app}")}">'
    ]
    for node in sorted(shown):
        nx, ny = where[node]
        for p in sorted(parents[node]):
            if p in where:
                px, py = where[p]
                mid = (px + NODE_W + nx) / 2
                out.append(
                    f'<path class="edge" d="M{_n(px + NODE_W)} {_n(py + NODE_H / 2)} C{_n(mid)} {_n(py + NODE_H / 2)} '
                    f'{_n(mid)} {_n(ny + NODE_H / 2)} {_n(nx)} {_n(ny + NODE_H / 2)}"/>'
                )
            else:  # a parent not drawn: a stub into the node
                out.append(f'<path class="edge stub" d="M{_n(nx - 10)} {_n(ny + NODE_H / 2)} H{_n(nx)}"/>')
    for node in sorted(shown):
        nx, ny = where[node]
        css = ["node"]
        if node in new:
            css.append("new")
        if node in heads:
            css.append("head")
        merge = len(parents[node]) > 1
        if merge:
            css.append("merge")
        tip = f"{graph.label(node)}" + (" (new)" if node in new else "") + (" (head)" if node in heads else "") + (" (merge)" if merge else "")
        out.append(f'<g class="{" ".join(css)}"><title>{escape(tip)}</title>')
        if merge:
            cx, cy = nx + NODE_W / 2, ny + NODE_H / 2
            out.append(
                f'<polygon points="{_n(nx)},{_n(cy)} {_n(cx)},{_n(ny - 4)} {_n(nx + NODE_W)},{_n(cy)} {_n(cx)},{_n(ny + NODE_H + 4)}"/>'
            )
        else:
            out.append(f'<rect x="{_n(nx)}" y="{_n(ny)}" width="{NODE_W}" height="{NODE_H}" rx="5"/>')
        label = node[1] if len(node[1]) <= 18 else node[1][:17] + "…"
        out.append(f'<text x="{_n(nx + NODE_W / 2)}" y="{_n(ny + 16)}" text-anchor="middle">{escape(label)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _near(parents: dict[Key, set[Key]], children: dict[Key, set[Key]], start: set[Key]) -> set[Key]:
    """Every node within REACH edges (either way) of `start`."""
    seen = set(start)
    edge = set(start)
    for _ in range(REACH):
        edge = {n for k in edge for n in (*parents.get(k, ()), *children.get(k, ()))} - seen
        seen |= edge
    return seen


def _depths(parents: dict[Key, set[Key]], shown: set[Key]) -> dict[Key, int]:
    """Each shown node's column: the longest chain of app parents below it (so every edge goes right)."""
    found: dict[Key, int] = {}
    for start in sorted(shown):
        stack = [start]
        while stack:  # iterative: a long linear history must not hit the recursion limit
            node = stack[-1]
            if node in found:
                stack.pop()
                continue
            pending = [p for p in parents.get(node, ()) if p not in found and p in parents and p not in stack]
            if pending:
                stack.extend(sorted(pending))
                continue
            found[node] = 1 + max((found[p] for p in parents.get(node, ()) if p in found), default=-1)
            stack.pop()
    return {k: found[k] for k in shown}
