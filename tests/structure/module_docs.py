#!/usr/bin/env python3
"""Check that every module of every crate states its job in its first line: a `//!` doc
comment opening each file under crates/*/src (docs/architecture.md relies on it).

Usage, from the repository root: python3 tests/structure/module_docs.py [ROOT]
Exit status 0 when every file opens so; else 1, listing the files that do not.
"""
import sys
from pathlib import Path


def undocumented(root: Path) -> list:
    """The files under crates/*/src whose first line is not a `//!` comment."""
    return [path for path in sorted(root.glob("crates/*/src/**/*.rs"))
            if not path.read_text(encoding="utf-8").startswith("//!")]


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    missing = undocumented(root)
    for path in missing:
        print(f"{path}: the first line is not a `//!` line saying the module's job")
    count = len(list(root.glob("crates/*/src/**/*.rs")))
    print(f"module docs: {count} files, {len(missing)} without a first doc line")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
