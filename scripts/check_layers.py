#!/usr/bin/env python3
"""The runtime's layering, checked from its sources: every `crate::` path in scopes-runtime/src is read, each
file belongs to the top-level module it sits in, and the check fails on

- an import through the crate root (`crate::Authority` rather than `crate::authority::Authority`): the root
  is the public face, and a path through it hides which room a name comes from;
- a cycle among the top-level modules.

It prints the edges it found (`module -> modules it uses`) and the order the modules stack in. Comments and
doc comments are skipped: a doc link is not an import. Run by .ci/run; `scripts/check-layers` by hand."""

import re
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "scopes-runtime" / "src"
# Macros the root defines for the modules below it, not modules.
ROOT_MACROS = {"for_each_tuple"}


def top_level_modules():
    lib = (SOURCE / "lib.rs").read_text()
    return set(re.findall(r"^\s*(?:pub(?:\(crate\))?\s+)?mod\s+(\w+)\s*;", lib, re.M))


def module_of(path, modules):
    relative = path.relative_to(SOURCE)
    first = relative.parts[0].removesuffix(".rs")
    if first == "lib":
        return None
    if first == "private":  # `#[path = "private.rs"] pub mod __private;`
        return "__private"
    if first not in modules:
        sys.exit(f"check_layers: {relative} belongs to no module declared in lib.rs")
    return first


def code_of(text):
    """The text without comments and without its unit tests (which may use any room: they are not part of
    the build), strings left in place (no `crate::` appears in one)."""
    text = re.split(r"#\[cfg\((?:all\()?test\b[^\]]*\]\n(?://[^\n]*\n)*mod tests", text, maxsplit=1)[0]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def first_segments(group):
    """The first path segment of each item of a `{...}` use group (its contents, braces excluded)."""
    items, depth, current = [], 0, ""
    for char in group:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [re.split(r"::|\s|\{", item.strip(), maxsplit=1)[0] for item in items if item.strip()]


def used_names(code):
    """Each name that follows `crate::`, with the group expanded."""
    names = []
    # `$crate::` in a macro's body names the crate from wherever the macro is expanded: not an import.
    for match in re.finditer(r"(?<!\$)\bcrate::", code):
        rest = code[match.end():]
        if rest.startswith("{"):
            depth, end = 0, 0
            for index, char in enumerate(rest):
                depth += char == "{"
                depth -= char == "}"
                if depth == 0:
                    end = index
                    break
            names.extend(first_segments(rest[1:end]))
        else:
            found = re.match(r"\w+", rest)
            if found:
                names.append(found.group(0))
    return names


def main():
    modules = top_level_modules() | {"__private"}
    edges = {module: set() for module in modules}
    through_root = []
    for path in sorted(SOURCE.rglob("*.rs")):
        module = module_of(path, modules)
        # A unit-test file (`mod tests;` in its own file) is no more part of the build than an inline one.
        if module is None or path.name == "tests.rs":
            continue
        for name in used_names(code_of(path.read_text())):
            if name in modules:
                if name != module:
                    edges[module].add(name)
            # `self` is the crate itself; `__`-names are what `registry!` generates at the root.
            elif name not in ROOT_MACROS and name != "self" and not name.startswith("__"):
                through_root.append(f"{path.relative_to(SOURCE)}: crate::{name}")

    for module in sorted(edges):
        print(f"{module} -> {', '.join(sorted(edges[module])) or '(nothing)'}")

    failed = False
    if through_root:
        failed = True
        print("\nimports through the crate root (name the module instead):", file=sys.stderr)
        for line in through_root:
            print(f"  {line}", file=sys.stderr)

    # Kahn's algorithm: what is left once every module whose uses are all placed is placed, is a cycle.
    placed, order = set(), []
    while True:
        ready = sorted(m for m in edges if m not in placed and edges[m] <= placed)
        if not ready:
            break
        placed.update(ready)
        order.append(ready)
    left = {m: edges[m] - placed for m in edges if m not in placed}
    if left:
        failed = True
        print("\nthe modules below import each other in a circle:", file=sys.stderr)
        for module in sorted(left):
            print(f"  {module} -> {', '.join(sorted(left[module]))}", file=sys.stderr)
    else:
        print("\nlayers, bottom first: " + " | ".join(", ".join(layer) for layer in order))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
