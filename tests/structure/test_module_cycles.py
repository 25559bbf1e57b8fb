"""Tests of module_cycles.py on tiny fake crates.

Run: python3 -m unittest discover -s tests/structure
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_cycles as mc  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'module_cycles.py')


class ModuleCycles(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def crate(self, files, crate='demo'):
        """Writes {path under src/: text} as crates/<crate>; returns the circles of lib.rs."""
        for rel, text in files.items():
            path = os.path.join(self.root, 'crates', crate, 'src', rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(textwrap.dedent(text).lstrip('\n'))
        tree = mc.Tree(os.path.join(self.root, 'crates', crate, 'src', 'lib.rs'))
        self.edges = tree.edges()
        return [[mc.name(m) for m in comp] for comp, _ in mc.circles(tree.files, self.edges)]

    def edge_line(self, a, b):
        return self.edges[((a,), (b,))][1]

    def run_script(self):
        return subprocess.run([sys.executable, SCRIPT, self.root], capture_output=True, text=True)

    def test_two_module_cycle(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\n',
            'a.rs': 'use crate::b::B;\npub struct A;\n',
            'b.rs': 'pub struct B;\n\nfn make() -> crate::a::A {\n    crate::a::A\n}\n',
        })
        self.assertEqual(circles, [['a', 'b']])
        self.assertEqual((self.edge_line('a', 'b'), self.edge_line('b', 'a')), (1, 3))

    def test_three_module_cycle_through_grouped_multiline_use(self):
        circles = self.crate({
            'lib.rs': 'pub mod a;\npub(crate) mod b;\nmod c;\n',
            'a.rs': '''
                use crate::{
                    self as top,
                    b::{
                        Other,
                        B,
                    },
                };
                pub fn f() {}
            ''',
            'b.rs': 'use super::c::C;\npub struct B;\npub struct Other;\n',
            'c.rs': 'pub struct C;\nfn g() {\n    crate::a::f();\n}\n',
        })
        self.assertEqual(circles, [['a', 'b', 'c']])
        self.assertEqual(self.edge_line('a', 'b'), 4)
        self.assertEqual(self.edge_line('c', 'a'), 3)

    def test_cycle_through_crate_root_reexport(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\npub use b::Thing;\n',
            'a.rs': 'use crate::Thing;\npub struct Other;\n',
            'b.rs': 'pub struct Thing;\nimpl Thing {\n    fn other() -> super::a::Other {}\n}\n',
        })
        self.assertEqual(circles, [['a', 'b']])
        self.assertEqual(self.edge_line('a', 'b'), 1)

    def test_cycle_through_module_reexport_and_inline_module_with_path_attribute(self):
        circles = self.crate({
            'lib.rs': 'mod b;\n#[path = "elsewhere/a_file.rs"]\nmod a;\n',
            'elsewhere/a_file.rs': '''
                pub mod inner {
                    pub use crate::b::Thing as T;
                    pub fn helper() {}
                }
                pub struct A;
                fn f() {
                    inner::helper();
                }
            ''',
            'b.rs': 'mod deep;\npub use deep::Thing;\n',
            'b/deep.rs': 'pub struct Thing;\nfn f(_: crate::a::A) {}\n',
        })
        # a::inner's `crate::b::Thing` resolves through b's re-export to b::deep, which defines it.
        self.assertEqual(circles, [['a', 'a::inner', 'b::deep']])
        self.assertIn((('b',), ('b', 'deep')), self.edges)

    def test_cycle_through_an_imported_module_and_a_glob_reexport(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\nmod c;\npub use c::*;\n',
            'a.rs': 'use crate::b;\npub struct A;\nfn f(_: b::Thing) {}\n',
            'b.rs': 'mod deep;\npub use deep::Thing;\n',
            'b/deep.rs': 'pub struct Thing;\nfn g(_: crate::Gadget) {}\n',
            'c.rs': 'pub struct Gadget;\nfn h(_: crate::a::A) {}\n',
        })
        self.assertEqual(circles, [['a', 'b', 'b::deep', 'c']])
        self.assertIn((('a',), ('b', 'deep')), self.edges)     # b::Thing, through the import of b
        self.assertEqual(self.edges[(('b', 'deep'), ('c',))][1], 2)    # crate::Gadget, through c::*

    def test_parent_declaring_children_is_no_cycle(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\npub struct Top;\n',
            'a.rs': 'use crate::Top;\nmod inner;\npub fn helper() {}\n',
            'a/inner.rs': 'use super::helper;\nuse super::super::Top;\nuse crate::b::B;\n',
            'b.rs': 'pub struct B;\nfn f(_: super::Top) {}\n',
        })
        self.assertEqual(circles, [])
        self.assertIn((('a', 'inner'), ('a',)), self.edges)

    def test_parent_using_its_child_is_an_edge(self):
        circles = self.crate({
            'lib.rs': 'mod a;\npub struct Top;\n',
            'a.rs': 'mod inner;\npub use inner::X;\n',
            'a/inner.rs': 'pub struct X;\nfn f(_: crate::Top) {}\n',
        })
        self.assertEqual(circles, [])
        circles = self.crate({
            'a.rs': 'mod inner;\npub use inner::X;\npub struct Y;\n',
            'a/inner.rs': 'pub struct X;\nfn g(_: super::Y) {}\n',
        })
        self.assertEqual(circles, [['a', 'a::inner']])

    def test_cycle_only_in_cfg_test_code_is_ignored(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\n#[cfg(test)]\nmod test_support;\n',
            'test_support.rs': 'use crate::a::A;\n',
            'a.rs': 'use crate::b::B;\npub struct A;\n',
            'b.rs': '''
                pub struct B {
                    #[cfg(test)]
                    seen: crate::a::A,
                    kept: u8,
                }
                #[cfg(test)]
                use crate::a::A;
                #[cfg(test)]
                fn helper() -> crate::a::A { crate::a::A }
                #[cfg(test)]
                #[path = "b_tests.rs"]
                mod tests;
                #[cfg(test)]
                mod inline_tests {
                    use super::super::a::A;
                }
            ''',
            'b_tests.rs': 'use crate::a::A;\n',
        })
        self.assertEqual(circles, [])
        self.assertIn((('a',), ('b',)), self.edges)

    def test_comments_and_strings_are_ignored(self):
        circles = self.crate({
            'lib.rs': 'mod a;\nmod b;\n',
            'a.rs': 'use crate::b::B;\npub struct A;\n',
            'b.rs': r'''
                //! Module docs: see [`crate::a::A`].
                // use crate::a::A;
                /* crate::a::A and
                   use crate::a::A; */
                /// Made from a [`crate::a::A`].
                pub struct B;
                const S: &str = "use crate::a::A; \" crate::a::A";
                const R: &str = r#"crate::a::A "quoted" "#;
                const Q: char = '"';
                const L: &str = "it's crate::a::A";
                fn f<'a>(x: &'a str) -> &'a str { x }
            ''',
        })
        self.assertEqual(circles, [])

    def test_script_output_and_exit_status(self):
        self.crate({'lib.rs': 'mod a;\nmod b;\n', 'a.rs': 'pub struct A;\n', 'b.rs': 'use crate::a::A;'})
        done = self.run_script()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn('module graph: 1 crates, 3 modules, no circles', done.stdout)
        self.crate({'a.rs': 'pub struct A;\n\nuse crate::b::B;\n'})
        done = self.run_script()
        self.assertEqual(done.returncode, 1)
        self.assertIn('demo (crates/demo/src/lib.rs): circle among a, b', done.stdout)
        self.assertIn('a -> b -> a', done.stdout)
        self.assertIn('a -> b: crates/demo/src/a.rs:3', done.stdout)
        self.assertIn('b -> a: crates/demo/src/b.rs:1', done.stdout)

    def test_missing_module_file_fails(self):
        with self.assertRaises(OSError):
            self.crate({'lib.rs': 'mod gone;\n'})
        done = self.run_script()
        self.assertEqual(done.returncode, 1)
        self.assertIn('lib.rs:1: no file for `mod gone;`', done.stdout)


if __name__ == '__main__':
    unittest.main()
