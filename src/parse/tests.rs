//! Behaviour of the whole parse stage, through [`parse_source`] and [`parse_files`].

use std::path::PathBuf;

use super::*;
use crate::settings::{DEFAULT_PYTHON_VERSION, ScanSettings};
use crate::walk::{SourceFile, SourceKind};

fn file(rel: &str, module: Option<&str>, is_package: bool) -> SourceFile {
    SourceFile {
        path: PathBuf::from(rel),
        rel: rel.to_string(),
        kind: if rel.ends_with(".ipynb") {
            SourceKind::Notebook
        } else {
            SourceKind::Python
        },
        module: module.and_then(ModuleName::new),
        is_package,
    }
}

fn parse(source: &str) -> FileImports {
    parse_source(&file("m.py", Some("pkg.m"), false), source.as_bytes())
}

/// `module[:member]@line:column[context,…]` for each site, in output order.
fn sites(result: &FileImports) -> Vec<String> {
    all_sites(&result.imports)
}

fn all_sites<'a>(imports: impl IntoIterator<Item = &'a ImportSite>) -> Vec<String> {
    imports.into_iter().map(describe).collect()
}

fn describe(site: &ImportSite) -> String {
    let member = site
        .member
        .as_deref()
        .map_or(String::new(), |m| format!(":{m}"));
    let contexts: Vec<String> = site
        .context
        .iter()
        .map(|c| format!("{c:?}").to_lowercase())
        .collect();
    format!(
        "{}{member}@{}:{}[{}]",
        site.module,
        site.line,
        site.column,
        contexts.join(",")
    )
}

fn find<'a>(result: &'a FileImports, module: &str) -> &'a ImportSite {
    result
        .imports
        .iter()
        .find(|s| s.module.as_str() == module)
        .unwrap_or_else(|| panic!("no import of {module} in {:?}", sites(result)))
}

fn codes(result: &FileImports) -> Vec<&'static str> {
    result.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn contexts(result: &FileImports, module: &str) -> Vec<Context> {
    find(result, module).context.iter().collect()
}

#[test]
fn imports_in_every_kind_of_block_are_found() {
    let result = parse(
        "import top\n\
         def f():\n    import in_function\n\
         class C:\n    import in_class\n    def m(self):\n        import in_method\n\
         async def g():\n    async with x:\n        import in_async_with\n    async for a in b:\n        import in_async_for\n\
         for i in x:\n    import in_for\nelse:\n    import in_for_else\n\
         while x:\n    import in_while\n\
         with open(p) as h:\n    import in_with\n\
         match x:\n    case 1:\n        import in_match\n\
         if x:\n    if y:\n        import in_nested_if\n",
    );
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    assert_eq!(
        sites(&result),
        [
            "top@1:8[]",
            "in_function@3:12[function]",
            "in_class@5:12[class]",
            "in_method@7:16[function,class]",
            "in_async_with@10:16[function]",
            "in_async_for@12:16[function]",
            "in_for@14:12[]",
            "in_for_else@16:12[]",
            "in_while@18:12[]",
            "in_with@20:12[]",
            "in_match@23:16[]",
            "in_nested_if@26:16[]",
        ]
    );
}

#[test]
fn from_import_gives_one_site_per_name_and_star_has_no_member() {
    let result = parse("from a import b, c as d\nfrom e import *\nimport f.g as h, i\n");
    assert_eq!(
        sites(&result),
        [
            "a:b@1:15[]",
            "a:c@1:18[]",
            "e@2:15[]",
            "f.g@3:8[]",
            "i@3:18[]"
        ]
    );
}

#[test]
fn relative_imports_resolve_against_the_module_or_the_package_itself() {
    let source = "from . import x\nfrom .a import b\nfrom ..up import c\n";
    let module = parse_source(&file("p/q/m.py", Some("p.q.m"), false), source.as_bytes());
    assert_eq!(
        sites(&module),
        ["p.q:x@1:15[]", "p.q.a:b@2:16[]", "p.up:c@3:18[]"]
    );
    assert_eq!(module.imports[1].relative(), Some(".a"));
    assert_eq!(module.imports[2].relative(), Some("..up"));
    let package = parse_source(
        &file("p/q/__init__.py", Some("p.q"), true),
        source.as_bytes(),
    );
    assert_eq!(
        sites(&package),
        ["p.q:x@1:15[]", "p.q.a:b@2:16[]", "p.up:c@3:18[]"]
    );
}

#[test]
fn relative_import_beyond_the_top_level_package_is_a_diagnostic() {
    let result = parse_source(
        &file("p/m.py", Some("p.m"), false),
        b"import ok\nfrom ... import x\n",
    );
    assert_eq!(sites(&result), ["ok@1:8[]"]);
    assert_eq!(codes(&result), ["relative-import-beyond-top-level"]);
    assert_eq!(result.diagnostics[0].line, Some(2));
}

#[test]
fn relative_import_in_a_file_without_module_name_is_a_diagnostic() {
    let result = parse_source(
        &file("scripts/my-tool.py", None, false),
        b"from . import x\n",
    );
    assert!(result.imports.is_empty());
    assert_eq!(codes(&result), ["relative-import-no-package"]);
}

#[test]
fn dynamic_imports_are_found_in_any_expression_position() {
    let result = parse(
        "import importlib\n\
         importlib.import_module('bare')\n\
         m = importlib.import_module('assigned')\n\
         def f(x=__import__('default')):\n    return importlib.import_module('returned')\n\
         print(__import__('argument'))\n\
         g = lambda: __import__('in_lambda')\n\
         mods = [importlib.import_module(n) for n in ['a']] + [__import__('comprehension') for _ in x]\n\
         @__import__('decorator').wraps\n\
         def h(): pass\n\
         x = __import__('a.b.c')\n",
    );
    let dynamic: Vec<String> = result
        .imports
        .iter()
        .filter(|s| s.context.contains(&Context::Dynamic))
        .map(describe)
        .collect();
    assert_eq!(
        dynamic,
        [
            "bare@2:25[dynamic]",
            "assigned@3:29[dynamic]",
            "default@4:20[dynamic]",
            "returned@5:36[function,dynamic]",
            "argument@6:18[dynamic]",
            "in_lambda@7:24[function,dynamic]",
            "comprehension@8:66[dynamic]",
            "decorator@9:13[dynamic]",
            "a.b.c@11:16[dynamic]",
        ]
    );
    // `import_module(n)` in the comprehension is not a literal.
    assert_eq!(codes(&result), ["dynamic-import-not-literal"]);
    assert_eq!(result.diagnostics[0].line, Some(8));
    assert_eq!(
        result.diagnostics[0].severity,
        crate::diagnostic::Severity::Warning
    );
}

#[test]
fn dynamic_imports_through_aliases_and_relative_names_with_a_package() {
    let result = parse(
        "def late():\n    return il.import_module('via_alias')\n\
         import importlib as il\nfrom importlib import import_module as im\n\
         im('via_function_alias')\n\
         im('.rel', package='pkg.sub')\n\
         im('..rel2', 'pkg.sub')\n\
         __import__('sibling', globals(), locals(), [], 1)\n",
    );
    let modules: Vec<(&str, Option<&str>)> = result
        .imports
        .iter()
        .filter(|s| s.context.contains(&Context::Dynamic))
        .map(|s| (s.module.as_str(), s.relative()))
        .collect();
    assert_eq!(
        modules,
        [
            ("via_alias", None),
            ("via_function_alias", None),
            ("pkg.sub.rel", Some(".rel")),
            ("pkg.rel2", Some("..rel2")),
            ("pkg.sibling", Some(".sibling")),
        ]
    );
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
}

#[test]
fn dynamic_import_of_a_variable_is_a_warning_with_its_line_not_a_silent_miss() {
    let result = parse(
        "import importlib\n\nname = 'x'\nimportlib.import_module(name)\n__import__(f'{name}')\n",
    );
    assert!(
        result
            .imports
            .iter()
            .all(|s| !s.context.contains(&Context::Dynamic))
    );
    let lines: Vec<_> = result
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column))
        .collect();
    assert_eq!(
        lines,
        [
            ("dynamic-import-not-literal", Some(4), Some(25)),
            ("dynamic-import-not-literal", Some(5), Some(12)),
        ]
    );
}

#[test]
fn a_function_named_import_module_that_is_not_importlibs_is_ignored() {
    let result =
        parse("def import_module(x): pass\nimport_module('x')\nother.import_module('y')\n");
    assert!(result.imports.is_empty());
    assert!(result.diagnostics.is_empty());
}

#[test]
fn only_the_body_of_a_try_that_catches_import_errors_is_optional() {
    let result = parse(
        "try:\n    import body\nexcept ImportError:\n    import handler\nelse:\n    import orelse\nfinally:\n    import fin\n\
         try:\n    import tuple_catch\nexcept (ValueError, ModuleNotFoundError):\n    pass\n\
         try:\n    import bare\nexcept:\n    pass\n\
         try:\n    import broad\nexcept Exception:\n    pass\n\
         try:\n    import other\nexcept KeyError:\n    pass\n",
    );
    assert_eq!(contexts(&result, "body"), [Context::Optional]);
    for module in ["handler", "orelse", "fin", "other"] {
        assert!(contexts(&result, module).is_empty(), "{module}");
    }
    for module in ["tuple_catch", "bare", "broad"] {
        assert_eq!(contexts(&result, module), [Context::Optional], "{module}");
    }
}

#[test]
fn type_checking_blocks_in_all_spellings_and_never_their_else() {
    let result = parse(
        "import typing as t\nfrom typing import TYPE_CHECKING as TC\n\
         if TYPE_CHECKING:\n    import plain\nelse:\n    import plain_else\n\
         if typing.TYPE_CHECKING:\n    import qualified\n\
         if t.TYPE_CHECKING:\n    import aliased_module\n\
         if TC:\n    import aliased_name\n\
         if not TYPE_CHECKING:\n    import runtime\nelse:\n    import negated_else\n",
    );
    for module in [
        "plain",
        "qualified",
        "aliased_module",
        "aliased_name",
        "negated_else",
    ] {
        assert_eq!(
            contexts(&result, module),
            [Context::TypeChecking],
            "{module}"
        );
    }
    assert!(contexts(&result, "plain_else").is_empty());
    assert!(contexts(&result, "runtime").is_empty());
}

#[test]
fn version_and_platform_tests_make_both_branches_conditional_with_their_text() {
    let result = parse(
        "import sys, os, platform\nfrom sys import version_info as vi\n\
         if sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli\n\
         if sys.platform == 'win32':\n    import winreg\nelif platform.system() == 'Darwin':\n    import mac\n\
         if os.name == 'nt':\n    import nt_only\n\
         if vi < (3, 8):\n    import via_from_import\n\
         if DEBUG:\n    import not_conditional\n",
    );
    let tomli = find(&result, "tomli");
    assert_eq!(
        tomli.context.iter().collect::<Vec<_>>(),
        [Context::Conditional]
    );
    assert_eq!(tomli.conditions(), ["sys.version_info >= (3, 11)"]);
    assert_eq!(
        find(&result, "tomllib").conditions(),
        ["sys.version_info >= (3, 11)"]
    );
    assert_eq!(
        find(&result, "mac").conditions(),
        ["sys.platform == 'win32'", "platform.system() == 'Darwin'"]
    );
    assert_eq!(find(&result, "nt_only").conditions(), ["os.name == 'nt'"]);
    assert_eq!(
        find(&result, "via_from_import").conditions(),
        ["vi < (3, 8)"]
    );
    assert!(contexts(&result, "not_conditional").is_empty());
}

#[test]
fn main_guard_body_is_marked_and_contexts_combine() {
    let result = parse(
        "if __name__ == '__main__':\n    import cli\n    def main():\n        try:\n            import rich\n        except ImportError:\n            pass\n",
    );
    assert_eq!(contexts(&result, "cli"), [Context::MainGuard]);
    assert_eq!(
        contexts(&result, "rich"),
        [Context::Function, Context::Optional, Context::MainGuard]
    );
}

#[test]
fn syntax_error_keeps_recovered_imports_and_reports_line_and_character_column() {
    let result =
        parse("import before\nx = 'é' + (\nimport after\ndef broken(:\n    import inside\n");
    let modules: Vec<&str> = result.imports.iter().map(|s| s.module.as_str()).collect();
    assert!(modules.contains(&"before"), "{modules:?}");
    assert!(modules.contains(&"inside"), "{modules:?}");
    let syntax: Vec<_> = result
        .diagnostics
        .iter()
        .filter(|d| d.code == SYNTAX_ERROR)
        .collect();
    assert_eq!(syntax.len(), 1);
    assert!(syntax[0].line.is_some() && syntax[0].column.is_some());
}

#[test]
fn syntax_error_column_counts_characters() {
    let result = parse("x = 'ééé' $\nimport os\n");
    let error = result
        .diagnostics
        .iter()
        .find(|d| d.code == SYNTAX_ERROR)
        .unwrap();
    assert_eq!((error.line, error.column), (Some(1), Some(11)));
    assert_eq!(sites(&result), ["os@2:8[]"]);
}

#[test]
fn notebook_cells_are_numbered_and_magics_do_not_break_parsing() {
    let notebook = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["import not_code\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
             "source": ["%matplotlib inline\n", "!pip install requests\n", "import numpy as np\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
             "source": ["%%bash\n", "import not_python\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
             "source": ["files = !ls\n", "def f():\n", "    import pandas\n", "np?\n"]},
        ]
    });
    let result = parse_source(
        &file("nb.ipynb", None, false),
        notebook.to_string().as_bytes(),
    );
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    let found: Vec<(&str, Option<u32>, u32)> = result
        .imports
        .iter()
        .map(|s| (s.module.as_str(), s.cell, s.line))
        .collect();
    assert_eq!(found, [("numpy", Some(1), 3), ("pandas", Some(3), 3)]);
}

#[test]
fn notebook_alias_from_an_earlier_cell_is_known_in_a_later_one() {
    let notebook = serde_json::json!({"cells": [
        {"cell_type": "code", "source": "import importlib as il"},
        {"cell_type": "code", "source": "il.import_module('later')"},
    ]});
    let result = parse_source(
        &file("nb.ipynb", None, false),
        notebook.to_string().as_bytes(),
    );
    let later = find(&result, "later");
    assert_eq!((later.cell, later.line, later.column), (Some(2), 1, 18));
}

#[test]
fn notebook_syntax_error_names_its_cell() {
    let notebook = serde_json::json!({"cells": [
        {"cell_type": "code", "source": "import ok"},
        {"cell_type": "code", "source": "x = (\n"},
        {"cell_type": "code", "source": "import after"},
    ]});
    let result = parse_source(
        &file("nb.ipynb", None, false),
        notebook.to_string().as_bytes(),
    );
    assert_eq!(sites(&result), ["ok@1:8[]", "after@1:8[]"]);
    assert_eq!(codes(&result), ["syntax-error"]);
    assert!(
        result.diagnostics[0].message.starts_with("cell 2:"),
        "{}",
        result.diagnostics[0].message
    );
}

#[test]
fn notebook_that_is_not_json_is_a_diagnostic() {
    let result = parse_source(&file("nb.ipynb", None, false), b"{\"cells\": [");
    assert!(result.imports.is_empty());
    assert_eq!(codes(&result), ["invalid-notebook"]);
}

fn nested_brackets(depth: usize) -> String {
    format!(
        "x = {}__import__('deep'){}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

fn operator_chain(terms: usize) -> String {
    format!("x = {}1\n", "1 + ".repeat(terms - 1))
}

#[test]
fn ten_thousand_nested_brackets_are_refused_without_losing_the_other_imports() {
    let source = format!("import before\n{}import after\n", nested_brackets(10_000));
    let result = parse(&source);
    assert_eq!(sites(&result), ["before@1:8[]", "after@3:8[]"]);
    assert_eq!(codes(&result), ["nesting-too-deep"]);
    assert_eq!(result.diagnostics[0].line, Some(2));
}

#[test]
fn ten_thousand_term_operator_chain_is_refused_without_losing_the_other_imports() {
    let source = format!("import before\n{}import after\n", operator_chain(10_000));
    let result = parse(&source);
    assert_eq!(sites(&result), ["before@1:8[]", "after@3:8[]"]);
    assert_eq!(codes(&result), ["nesting-too-deep"]);
}

#[test]
fn five_thousand_deep_nesting_parses_and_yields_its_imports() {
    let source = format!(
        "import before\n{}{}import after\n",
        nested_brackets(5_000),
        operator_chain(5_000)
    );
    let result = parse(&source);
    assert!(result.diagnostics.is_empty(), "{:?}", codes(&result));
    let modules: Vec<&str> = result.imports.iter().map(|s| s.module.as_str()).collect();
    assert_eq!(modules, ["before", "deep", "after"]);
}

fn settings(root: &std::path::Path, max_file_size: u64) -> ScanSettings {
    ScanSettings {
        root: root.to_path_buf(),
        exclude: Vec::new(),
        roots: Vec::new(),
        python_version: DEFAULT_PYTHON_VERSION,
        max_file_size,
        cache_dir: None,
    }
}

fn on_disk(dir: &std::path::Path, rel: &str, contents: &[u8]) -> SourceFile {
    let path = dir.join(rel);
    fs_err::write(&path, contents).unwrap();
    SourceFile {
        path,
        ..file(rel, rel.strip_suffix(".py"), false)
    }
}

#[test]
fn deep_files_next_to_an_ordinary_one_do_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        on_disk(
            dir.path(),
            "brackets.py",
            nested_brackets(10_000).as_bytes(),
        ),
        on_disk(dir.path(), "chain.py", operator_chain(10_000).as_bytes()),
        on_disk(
            dir.path(),
            "ordinary.py",
            b"import requests\nfrom yaml import safe_load\n",
        ),
    ];
    let result = parse_files(&files, &settings(dir.path(), 10 << 20));
    assert_eq!(
        all_sites(&result.imports),
        ["requests@1:8[]", "yaml:safe_load@2:18[]"]
    );
    let found: Vec<(&str, Option<&str>)> = result
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.file.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("nesting-too-deep", Some("brackets.py")),
            ("nesting-too-deep", Some("chain.py")),
        ]
    );
}

#[test]
fn oversized_unreadable_and_ordinary_files_each_get_their_due() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![
        on_disk(dir.path(), "big.py", "import big\n".repeat(100).as_bytes()),
        on_disk(dir.path(), "small.py", b"import small\n"),
    ];
    files.push(SourceFile {
        path: dir.path().join("gone.py"),
        ..file("gone.py", Some("gone"), false)
    });
    let result = parse_files(&files, &settings(dir.path(), 100));
    assert_eq!(all_sites(&result.imports), ["small@1:8[]"]);
    let found: Vec<(&str, Option<&str>)> = result
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.file.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("file-too-large", Some("big.py")),
            ("unreadable-file", Some("gone.py"))
        ]
    );
}

#[test]
fn output_order_does_not_depend_on_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<SourceFile> = (0..40)
        .map(|i| {
            let source = format!("import z{i}\nimport a{i}\nfrom . import x\n");
            on_disk(dir.path(), &format!("f{i:02}.py"), source.as_bytes())
        })
        .collect();
    let settings = settings(dir.path(), 1 << 20);
    let forward = parse_files(&files, &settings);
    files.reverse();
    let backward = parse_files(&files, &settings);
    assert_eq!(forward.imports, backward.imports);
    assert_eq!(forward.diagnostics, backward.diagnostics);
    assert_eq!(&*forward.imports[0].file, "f00.py");
    assert_eq!(forward.imports[0].module.as_str(), "z0");
}

#[test]
fn sorting_import_sites_keeps_source_order_rather_than_module_order() {
    // scan.rs sorts the sites again with `Ord`: that must not regroup them by module.
    let mut imports = parse("import zlib\nimport abc\nfrom b import z, a\n").imports;
    imports.reverse();
    imports.sort();
    let order: Vec<String> = imports.iter().map(describe).collect();
    assert_eq!(
        order,
        ["zlib@1:8[]", "abc@2:8[]", "b:z@3:15[]", "b:a@3:18[]"]
    );
}

#[test]
fn every_truncation_of_a_tricky_source_parses_without_a_panic() {
    let source = "# -*- coding: latin-1 -*-\r\nimport a\\\n.b\nx = f\"{y!r:>{w}} {{ }} {f'{z}'}\" + r'\\'' \
                  + b\"\\x00\" + '''\n(((\n'''\ndef f(a=[1, (2, {3: 4})], *, b=lambda: __import__('q')):\n\
                  \tif TYPE_CHECKING: import t\n    try: import o\n    except* ImportError: pass\n\
                  match x:\n    case [1, *_] if sys.platform == 'linux': from . import m\n\
                  print(\"\"\"\\\"\"\" unterminated";
    for end in (0..=source.len()).filter(|&end| source.is_char_boundary(end)) {
        let result = parse(&source[..end]);
        assert!(
            !codes(&result).contains(&PARSER_PANIC.as_str()),
            "prefix of {end} bytes: {:?}",
            result.diagnostics
        );
    }
}

#[test]
fn random_bytes_from_python_tokens_never_make_the_parser_panic() {
    // A fixed linear congruential generator: the same inputs on every run. Regression: with
    // these inputs ruff's IPython mode hit an `unreachable!` on a notebook cell.
    let pieces: &[&str] = &[
        "import ",
        "from ",
        ".",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        "'''",
        "f'",
        "{x}",
        "\\",
        "\n",
        "\r\n",
        "    ",
        "\t",
        ":",
        ",",
        "+",
        "not ",
        "lambda ",
        "if ",
        "else ",
        "try:",
        "except:",
        "__import__(",
        "importlib.import_module(",
        "a",
        "é",
        "\0",
        "#",
        "%",
        "!",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..300 {
        let mut source = String::new();
        for _ in 0..60 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            source.push_str(pieces[(state >> 33) as usize % pieces.len()]);
        }
        for rel in ["r.py", "r.ipynb"] {
            let bytes = if rel.ends_with(".ipynb") {
                serde_json::json!({"cells": [{"cell_type": "code", "source": &source}]}).to_string()
            } else {
                source.clone()
            };
            let result = parse_source(&file(rel, Some("p.r"), false), bytes.as_bytes());
            assert!(
                !codes(&result).contains(&PARSER_PANIC.as_str()),
                "{source:?}: {:?}",
                result.diagnostics
            );
        }
    }
}
