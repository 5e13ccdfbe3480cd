"""Fail when any module of socius imports itself back through others: an import cycle.

Every import statement counts, wherever it stands (at the top, inside a function, under
TYPE_CHECKING), so a cycle cannot hide inside a function. The layers themselves are checked by
import-linter's contracts (pyproject.toml, [tool.importlinter]); `make lint` runs both.

    python scripts/check_cycles.py          prints each cycle and exits 1, or says none
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("protos", "world", "inference", "actors")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main() -> int:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    # a package's __init__ is a module like any other; importing a submodule does not import
    # the package's names, so only real import statements count
    found = cycles(graph)
    if not found:
        print(f"no import cycles among {len(graph.modules)} modules of {', '.join(PACKAGES)}")
        return 0
    for component in found:
        a, b = component[0], component[1]
        there = graph.find_shortest_chain(a, b) or (a, b)
        back = graph.find_shortest_chain(b, a) or (b, a)
        print(f"import cycle among {len(component)} modules: {', '.join(component)}")
        print("  e.g. " + " -> ".join([*there, *back[1:]]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
