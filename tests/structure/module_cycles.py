#!/usr/bin/env python3
"""Check that no crate of the workspace has a circle among its modules.

Usage, from the repository root: python3 tests/structure/module_cycles.py [ROOT]
Exit status 0 when no crate has one; else 1, with each circle (or each `mod x;`
without its file) listed.

Modules: for each crates/*/ and each crate root (src/lib.rs, src/main.rs,
src/bin/*.rs, src/bin/*/main.rs: one tree each), the modules reached by `mod name;`
(name.rs, name/mod.rs or the `#[path = "..."]` file) and inline `mod name {..}`.
tests/, benches/ and examples/ are not read.

Edges: module A depends on B when A refers to B or to an item in B, in a `use`
(groups `{..}` nested and over many lines, `self`, `as`, `*`) or in another path
starting with `crate`, `$crate`, `self`, `super`, a child of A or a name A imports
(`crate::b::f()`, `super::T`, `child::g()`). Paths resolve through imports:
`crate::Foo`, where lib.rs has `pub use b::Foo;`, is an edge to b, which defines
Foo (also through chains of re-exports and globs). A path into A itself is no
edge; declaring a child with `mod` is none; a parent's `use` of its child and a
child's `use super::X` are edges. A circle is a strongly connected component of
more than one module; parent files (lib.rs, main.rs, x/mod.rs) are modules too.

Ignored: comments, string and char literals (block comments taken as unnested);
each item, field or statement under `#[cfg(test)]` (other cfgs count as on); paths
into other crates; `pub(in path)`; macro_rules! scoping. Resolution is textual: a
type and a module of the same name are not told apart.
"""
import os
import re
import sys
from collections import defaultdict

IDENT = r'[A-Za-z_]\w*'
LEXEME = re.compile(r'//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/|(?<!\w)[bc]?r(#*)"(.*?)"\1'
                    r'|(?<!\w)[bc]?"((?:\\.|[^"\\])*)"|\'(?:\\\'|\\[^\']+|[^\'\\])\'', re.S)
MOD = re.compile(r'((?:#\[[^\]]*\]\s*)*)'                    # attributes, `[pub] mod name`, `;` or `{`
                 r'(?:pub\s*(?:\([^)]*\))?\s*)?\bmod\s+(?:r#)?(' + IDENT + r')\s*([;{])')
PATH_ATTR = re.compile(r'#\[\s*path\s*=\s*(")')
ITEM = re.compile(r'\b(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)\s*(' + IDENT + ')')
USE = re.compile(r'\buse\b(?!\s*<)([^;]*);')
PATH = re.compile(r'(?<![\w:])(\$?' + IDENT + r'(?:\s*::\s*' + IDENT + r')+)')
TOKEN = re.compile(r'::|[{},*]|' + IDENT)


def blank(text):
    return re.sub(r'[^\n]', ' ', text)


def strip(src):
    """Comments and literals blanked (offsets kept); and {offset of a string: its text}."""
    lits = {}

    def repl(m):
        if m.group(2) is None and m.group(3) is None:
            return blank(m.group())
        lits[m.start()] = m.group(2) if m.group(2) is not None else m.group(3)
        return '"' + blank(m.group()[2:]) + '"'
    return LEXEME.sub(repl, src), lits


def close(code, i):
    """Offset just past the bracket closing the one at i."""
    depth = 0
    for j in range(i, len(code)):
        depth += (code[j] in '([{') - (code[j] in ')]}')
        if depth == 0:
            return j + 1
    return len(code)


def drop_cfg_test(code):
    """Blank each item (or field, arm, statement) under a #[cfg(test)] attribute."""
    while m := re.search(r'#\[\s*cfg\s*\(\s*test\s*\)\s*\]', code):
        j = m.end()
        while j < len(code):
            c = code[j]
            if c in '([' or code.startswith('#[', j):
                j = close(code, j + (c == '#'))
            elif c in ')]},;{':
                j = close(code, j) if c == '{' else j + (c in ',;')
                break
            else:
                j += 1
        code = code[:m.start()] + blank(code[m.start():j]) + code[j:]
    return code


class Tree:
    """The modules of one crate root (tuples of names, () the root), and what they refer to."""

    def __init__(self, root_file):
        self.files, self.spans = {}, defaultdict(list)
        self.items = defaultdict(set)                 # module -> names defined in it
        self.aliases = defaultdict(dict)              # module -> {name it imports: path}
        self.globs = defaultdict(list)                # module -> [path of a `use path::*`]
        self.refs = []                                # (module, path segments, file, line)
        self.load(root_file, (), os.path.dirname(root_file))

    def load(self, path, module, child_dir):
        with open(path, encoding='utf-8') as f:
            code, lits = strip(f.read())
        code = re.sub(r'\bpub\s*\(\s*in\b[^)]*\)', lambda m: blank(m.group()), drop_cfg_test(code))
        self.files[module] = path

        def line(offset):
            return code.count('\n', 0, offset) + 1
        self.spans[path].append((0, len(code), module, child_dir))
        for m in MOD.finditer(code):
            _, _, outer, outer_dir = self.span_at(path, m.start())
            name, attr = m.group(2), PATH_ATTR.search(m.group(1))
            sub, sub_dir = outer + (name,), os.path.join(outer_dir, name)
            if m.group(3) == '{':                     # inline: a span of this file
                self.files[sub] = path
                self.spans[path].append((m.end() - 1, close(code, m.end() - 1), sub, sub_dir))
            elif attr:                                # relative to the file, or to the inline module
                base = os.path.dirname(path) if outer == module else outer_dir
                target = os.path.join(base, lits[m.start() + attr.start(1)])
                self.load(target, sub, os.path.dirname(target))
            else:
                found = [f for f in (sub_dir + '.rs', os.path.join(sub_dir, 'mod.rs')) if os.path.isfile(f)]
                if not found:
                    raise OSError(f'{path}:{line(m.start())}: no file for `mod {name};`')
                self.load(found[0], sub, sub_dir)
        for m in ITEM.finditer(code):
            self.items[self.span_at(path, m.start())[2]].add(m.group(1))
        for m in USE.finditer(code):
            module = self.span_at(path, m.start())[2]
            tokens = [(t.group(), m.start(1) + t.start()) for t in TOKEN.finditer(m.group(1))]
            for segs, name, off in use_tree(tokens, []):
                if name == '*':
                    self.globs[module].append(segs)
                elif name != '_':
                    self.aliases[module][name] = segs
                self.refs.append((module, segs, path, line(off)))
            code = code[:m.start()] + blank(m.group()) + code[m.end():]
        for m in PATH.finditer(code):
            segs = re.split(r'\s*::\s*', m.group(1))
            self.refs.append((self.span_at(path, m.start())[2], segs, path, line(m.start())))

    def span_at(self, path, offset):
        return max((s for s in self.spans[path] if s[0] <= offset < s[1]), key=lambda s: s[0])

    def resolve(self, module, segs, depth=0):
        """The module that path `segs`, written in `module`, points into; None: not this crate."""
        if depth > 16 or not segs or (segs[0] == 'super' and not module):
            return None
        first, cur = segs[0], None
        if first in ('crate', '$crate', 'self', 'super'):
            cur = {'self': module, 'super': module[:-1]}.get(first, ())
        elif module + (first,) in self.files:
            cur = module + (first,)
        elif self.aliases[module].get(first, segs) != segs:
            cur = self.resolve(module, self.aliases[module][first], depth + 1)
        for seg in segs[1:] if cur is not None else ():
            if seg in ('self', 'super'):
                cur = cur[:-1] if seg == 'super' and cur else cur
            elif cur + (seg,) in self.files:
                cur = cur + (seg,)
            elif seg in self.aliases[cur] and seg not in self.items[cur]:
                target = self.resolve(cur, self.aliases[cur][seg], depth + 1)
                if target is None:                    # imported from another crate
                    return cur
                cur = target
            else:
                for g in self.globs[cur] if seg not in self.items[cur] else ():
                    t = self.resolve(cur, g, depth + 1)
                    if t is not None and (seg in self.items[t] or seg in self.aliases[t]):
                        return self.resolve(t, ['self', seg], depth + 1)
                return cur
        return cur

    def edges(self):
        """{(a, b): (file, line) of the first reference in a to b}."""
        found = {}
        for module, segs, path, ln in sorted(self.refs, key=lambda r: (r[2], r[3])):
            target = self.resolve(module, segs)
            if target is not None and target != module and (module, target) not in found:
                found[(module, target)] = (path, ln)
        return found


def use_tree(tokens, prefix):
    """The leaves of a use tree, [(segments, bound name or '*', offset)]; consumes tokens."""
    segs = list(prefix)
    while tokens:
        tok, off = tokens.pop(0)
        if tok == '{':
            leaves = []
            while tokens and tokens[0][0] != '}':
                leaves += use_tree(tokens, segs)
                if tokens and tokens[0][0] == ',':
                    tokens.pop(0)
            del tokens[:1]
            return leaves
        if tok in ('*', '::'):
            if tok == '*':
                return [(segs, '*', off)]
            segs = segs or ['::']                     # `::name`: another crate
            continue
        segs.append(tok)
        if not tokens or tokens[0][0] != '::':
            if tok == 'self' and len(segs) > 1:
                segs.pop()
            renamed = len(tokens) > 1 and tokens[0][0] == 'as'
            name = tokens[1][0] if renamed else segs[-1]
            del tokens[:2 * renamed]
            return [(segs, name, off)]
    return []


def circles(nodes, edges):
    """[(component, cycles)] per strongly connected component of more than one node; the
    cycles are distinct and cover the component's edges: each edge, then a shortest way back."""
    succ = defaultdict(list)
    for a, b in sorted(edges):
        succ[a].append(b)
    back = {}                                         # {v: {node reachable from v: predecessor}}
    for v in nodes:
        back[v], order = {v: None}, [v]
        for u in order:                               # breadth first: shortest ways
            for w in succ[u]:
                if w not in back[v]:
                    back[v][w] = u
                    order.append(w)
    result = []
    for comp in sorted({tuple(sorted(w for w in back[v] if v in back[w])) for v in nodes}):
        found = set()
        for a, b in [e for e in sorted(edges) if e[0] in comp and e[1] in comp]:
            way = [a]                                 # a, its predecessor on the way from b, ..., b
            while way[-1] != b:
                way.append(back[b][way[-1]])
            cyc = [a] + way[:0:-1]                    # a, b, ..., a's predecessor
            k = cyc.index(min(cyc))
            found.add(tuple(cyc[k:] + cyc[:k]))
        result += [(comp, sorted(found, key=lambda c: (len(c), c)))] if len(comp) > 1 else []
    return result


def name(module):
    return '::'.join(module) or 'crate'


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(here))
    problems, n_crates, n_modules = set(), 0, 0
    for crate in sorted(os.listdir(os.path.join(root, 'crates'))):
        src = os.path.join(root, 'crates', crate, 'src')
        bins = os.path.join(src, 'bin')
        n_crates += os.path.isdir(src)
        roots = [os.path.join(src, 'lib.rs'), os.path.join(src, 'main.rs')]
        for f in sorted(os.listdir(bins)) if os.path.isdir(bins) else ():
            roots += [os.path.join(bins, f), os.path.join(bins, f, 'main.rs')]
        for root_file in [f for f in roots if f.endswith('.rs') and os.path.isfile(f)]:
            where = f'{crate} ({os.path.relpath(root_file, root)})'
            try:
                tree = Tree(root_file)
            except (OSError, UnicodeDecodeError) as e:
                print(f'{where}: cannot read the module tree: {e}')
                problems.add(crate)
                continue
            edges = tree.edges()
            n_modules += len(tree.files)
            for comp, cycs in circles(tree.files, edges):
                problems.add(crate)
                print(f'{where}: circle among {", ".join(name(m) for m in comp)}')
                for cyc in cycs:
                    print('  ' + ' -> '.join(name(m) for m in cyc + cyc[:1]))
                    for a, b in zip(cyc, cyc[1:] + cyc[:1]):
                        path, ln = edges[(a, b)]
                        print(f'      {name(a)} -> {name(b)}: {os.path.relpath(path, root)}:{ln}')
    print(f'module graph: {n_crates} crates, {n_modules} modules, '
          + (f'circles or errors in {len(problems)} crate(s)' if problems else 'no circles'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
