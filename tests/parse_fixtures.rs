//! The parse stage over the real trees under `fixtures/`: what a user would see for each file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use envscan::names::ModuleName;
use envscan::parse::{Context, ParsedFiles, parse_files};
use envscan::settings::{DEFAULT_MAX_FILE_SIZE, DEFAULT_PYTHON_VERSION, ScanSettings};
use envscan::walk::{SourceFile, SourceKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A source file of a fixture, named as the walk would name it.
fn source(root: &Path, rel: &str, module: Option<&str>) -> SourceFile {
    SourceFile {
        path: root.join(rel),
        rel: rel.to_string(),
        kind: if rel.ends_with(".ipynb") {
            SourceKind::Notebook
        } else {
            SourceKind::Python
        },
        module: module.and_then(ModuleName::new),
        is_package: rel.ends_with("__init__.py"),
    }
}

fn scan(root: &Path, files: &[SourceFile]) -> ParsedFiles {
    let settings = ScanSettings {
        root: root.to_path_buf(),
        exclude: Vec::new(),
        roots: Vec::new(),
        python_version: DEFAULT_PYTHON_VERSION,
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        cache_dir: None,
    };
    parse_files(files, &settings)
}

/// file → modules imported, in output order.
fn modules_by_file(result: &ParsedFiles) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for site in &result.imports {
        map.entry(&*site.file)
            .or_default()
            .push(site.module.as_str());
    }
    map
}

#[test]
fn bad_input_files_each_get_a_diagnostic_and_keep_what_can_be_recovered() {
    let root = fixture("bad-input");
    let files: Vec<SourceFile> = [
        "binary.py",
        "bom.py",
        "invalid_utf8.py",
        "latin1_cookie.py",
        "magics.ipynb",
        "not_json.ipynb",
        "nul.py",
        "syntax_error.py",
        "unknown_encoding.py",
        "vim_cookie.py",
    ]
    .iter()
    .map(|rel| source(&root, rel, None))
    .collect();
    let result = scan(&root, &files);

    let modules = modules_by_file(&result);
    let expected: BTreeMap<&str, Vec<&str>> = [
        ("bom.py", vec!["bom_mod"]),
        ("invalid_utf8.py", vec!["before_bad", "after_bad"]),
        ("latin1_cookie.py", vec!["latin_mod"]),
        (
            "magics.ipynb",
            vec!["pandas", "matplotlib.pyplot", "timed_mod"],
        ),
        ("nul.py", vec!["before_nul", "after_nul"]),
        (
            "syntax_error.py",
            vec!["before_error", "inside_broken", "after_error"],
        ),
        ("unknown_encoding.py", vec!["despite_cookie"]),
        ("vim_cookie.py", vec!["cp1252_mod"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(modules, expected);

    let diagnostics: Vec<(&str, &str, Option<u32>)> = result
        .diagnostics
        .iter()
        .map(|d| (d.file.as_deref().unwrap_or(""), d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        diagnostics,
        [
            ("binary.py", "binary-file", None),
            ("invalid_utf8.py", "decode-error", Some(2)),
            ("not_json.ipynb", "invalid-notebook", Some(4)),
            ("nul.py", "nul-byte", Some(2)),
            ("syntax_error.py", "syntax-error", Some(3)),
            ("unknown_encoding.py", "unknown-encoding", Some(1)),
        ]
    );
}

#[test]
fn notebook_sites_carry_their_code_cell_and_line_within_it() {
    let root = fixture("bad-input");
    let result = scan(&root, &[source(&root, "magics.ipynb", None)]);
    let found: Vec<(&str, Option<u32>, u32, u32)> = result
        .imports
        .iter()
        .map(|s| (s.module.as_str(), s.cell, s.line, s.column))
        .collect();
    assert_eq!(
        found,
        [
            ("pandas", Some(1), 3, 8),
            ("matplotlib.pyplot", Some(3), 5, 12),
            ("timed_mod", Some(4), 2, 8),
        ]
    );
}

#[test]
fn every_context_and_relative_form_is_recognised_in_a_real_package() {
    let root = fixture("imports-everywhere");
    let files = [
        source(&root, "pkg/__init__.py", Some("pkg")),
        source(&root, "pkg/contexts.py", Some("pkg.contexts")),
        source(&root, "pkg/sub/__init__.py", Some("pkg.sub")),
        source(&root, "pkg/sub/helpers.py", Some("pkg.sub.helpers")),
    ];
    let result = scan(&root, &files);
    let contexts: BTreeMap<&str, Vec<Context>> = result
        .imports
        .iter()
        .filter(|s| &*s.file == "pkg/contexts.py")
        .map(|s| (s.module.as_str(), s.context.iter().collect()))
        .collect();
    let expect = |module: &str, want: &[Context]| {
        assert_eq!(
            contexts.get(module).map(Vec::as_slice),
            Some(want),
            "{module}"
        );
    };
    expect("plain", &[]);
    expect("in_function", &[Context::Function]);
    expect("in_class", &[Context::Class]);
    expect("optional_dep", &[Context::Optional]);
    expect("typing_only", &[Context::TypeChecking]);
    expect("typing_only_aliased", &[Context::TypeChecking]);
    expect("runtime_else", &[]);
    expect("tomllib", &[Context::Conditional]);
    expect("tomli", &[Context::Conditional]);
    expect("dynamic_plugin", &[Context::Dynamic]);
    expect("pkg.backend", &[Context::Dynamic]);
    expect("in_comprehension", &[Context::Dynamic]);
    expect("cli_only", &[Context::MainGuard]);

    let relative: Vec<(&str, &str, Option<&str>, &str)> = result
        .imports
        .iter()
        .filter_map(|s| {
            Some((
                &*s.file,
                s.module.as_str(),
                s.member.as_deref(),
                s.relative()?,
            ))
        })
        .filter(|s| s.0 != "pkg/contexts.py")
        .collect();
    assert_eq!(
        relative,
        [
            ("pkg/__init__.py", "pkg", Some("sub"), "."),
            ("pkg/__init__.py", "pkg.sub", Some("helpers"), ".sub"),
            ("pkg/sub/helpers.py", "pkg", Some("sibling"), ".."),
            (
                "pkg/sub/helpers.py",
                "pkg.sub.other",
                Some("thing"),
                "..sub.other"
            ),
        ]
    );

    let diagnostics: Vec<(&str, &str, Option<u32>)> = result
        .diagnostics
        .iter()
        .map(|d| (d.file.as_deref().unwrap_or(""), d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        diagnostics,
        [
            ("pkg/contexts.py", "dynamic-import-not-literal", Some(42)),
            (
                "pkg/sub/helpers.py",
                "relative-import-beyond-top-level",
                Some(3)
            ),
        ]
    );
}
