//! Python sources that are hostile to a parser: depth, size, encodings, special files and
//! notebooks. Each case writes one hostile file next to a good `good.py` (importing
//! `zzz_after`) and checks that `envscan scan` ends by itself within rlimits and still sees
//! the good file's import.

use super::harness::*;

/// A project with `good.py` importing `zzz_after` and `rel` holding `contents`.
fn project_with(rel: &str, contents: impl AsRef<[u8]>) -> Sandbox {
    let sb = Sandbox::new();
    sb.write("good.py", "import zzz_after\n");
    sb.write(rel, contents);
    sb
}

/// Invariant: `scan ARGS` under `limits` exits 0, did not panic, still found the good
/// file's import, and wrote nothing outside the project.
fn scan_survives(sb: &Sandbox, args: &[&str], limits: Limits) -> Outcome {
    let mut all = vec!["scan"];
    all.extend(args);
    let out = sb.run_limited(sb.command(&all), limits);
    out.assert_exit(0);
    assert!(
        out.stdout.contains("zzz_after"),
        "the good import is lost:\n{out}"
    );
    sb.assert_outside_unchanged();
    out
}

fn big_files() -> [&'static str; 2] {
    ["--max-file-size", "200000000"]
}

#[test]
fn ten_thousand_nested_blocks_are_guarded_in_linear_time() {
    // Regression (defect 15): 10k nested `if` blocks (50 MB with one-space indents) took
    // 80-112 s in the nesting guard, which counted lines from the file's start for every
    // too-deep line. A linear guard finishes well inside a 30 s RLIMIT_CPU (about 4 s in a
    // debug build); the quadratic one was killed by it.
    let text: String = (0..10_000)
        .map(|i| format!("{}if x:\n", " ".repeat(i)))
        .chain(std::iter::once(format!(
            "{}import deep\n",
            " ".repeat(10_000)
        )))
        .collect();
    let sb = project_with("deep.py", text);
    let out = scan_survives(
        &sb,
        &big_files(),
        Limits {
            cpu_seconds: 30,
            ..Limits::default()
        },
    );
    out.assert_stderr_contains("nesting-too-deep");
    // The 4,000 blanked statements are reported as 20 and a count, not 4,000 lines.
    assert!(
        out.stderr.matches("nesting-too-deep").count() <= 25,
        "{out}"
    );
    out.assert_stderr_contains("more such statements");
}

#[test]
fn hundred_thousand_nested_brackets_are_a_diagnostic_not_a_stack_overflow() {
    // Invariant: `[[[...]]]` 100k deep ends as nesting-too-deep, no SIGSEGV.
    let sb = project_with(
        "deep.py",
        format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    scan_survives(&sb, &[], Limits::default()).assert_stderr_contains("nesting-too-deep");
}

#[test]
fn hundred_thousand_nested_parentheses_are_a_diagnostic_not_a_stack_overflow() {
    // Invariant: `((((1))))` 100k deep ends as nesting-too-deep.
    let sb = project_with(
        "deep.py",
        format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000)),
    );
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn ten_thousand_nested_brackets_inside_an_import_guard_do_not_crash() {
    // Invariant: 10k-deep calls inside `try:` are blanked, the `import` before them is kept.
    let sb = project_with(
        "deep.py",
        format!(
            "try:\n    import kept_one\n    x = {}1{}\nexcept ImportError:\n    pass\n",
            "f(".repeat(10_000),
            ")".repeat(10_000)
        ),
    );
    let out = scan_survives(&sb, &[], Limits::default());
    assert!(out.stdout.contains("kept_one"), "{out}");
}

#[test]
fn a_hundred_thousand_term_binary_expression_is_a_diagnostic_not_a_stack_overflow() {
    // Invariant: `1 + 1 + ... + 1` (100k operators: a tree 100k deep) is guarded.
    let sb = project_with("deep.py", format!("x = {}1\n", "1 + ".repeat(100_000)));
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_hundred_thousand_deep_attribute_chain_is_a_diagnostic_not_a_stack_overflow() {
    // Invariant: `a.a.a....` 100k long is guarded like any operator chain.
    let sb = project_with("deep.py", format!("x = a{}\n", ".a".repeat(100_000)));
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn ten_thousand_nested_lambdas_and_nots_are_guarded() {
    // Invariant: unary and lambda chains nest one level each and are guarded.
    let sb = project_with(
        "deep.py",
        format!(
            "x = {}1\ny = {}0\n",
            "lambda: ".repeat(10_000),
            "not ".repeat(10_000)
        ),
    );
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn ten_thousand_nested_fstrings_replacement_fields_do_not_crash() {
    // Invariant: f-string fields nested in brackets 10k deep are guarded.
    let sb = project_with(
        "deep.py",
        format!("x = f'{{{}1{}}}'\n", "[".repeat(10_000), "]".repeat(10_000)),
    );
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_single_fifty_megabyte_line_is_scanned_within_limits() {
    // Invariant: one 50 MB line (a data blob) costs bounded time and memory.
    let sb = project_with(
        "blob.py",
        format!("import blob_user\nDATA = '{}'\n", "A".repeat(50 << 20)),
    );
    let out = scan_survives(&sb, &big_files(), Limits::default());
    assert!(out.stdout.contains("blob_user"), "{out}");
}

#[test]
fn nul_bytes_in_a_source_are_a_diagnostic_and_the_rest_is_scanned() {
    // Invariant: stray NULs are `nul-byte`; the imports around them are still seen.
    let sb = project_with(
        "nul.py",
        b"import before_nul\n\x00\x00x = 1\x00\nimport after_nul\n",
    );
    let out = scan_survives(&sb, &[], Limits::default());
    assert!(out.stdout.contains("after_nul"), "{out}");
}

#[test]
fn invalid_utf8_without_a_cookie_is_a_diagnostic_and_the_rest_is_scanned() {
    // Invariant: bad bytes are `decode-error`; the file is scanned lossily.
    let sb = project_with(
        "bad.py",
        b"import before_bad\nx = '\xff\xfe\xc3('\nimport after_bad\n",
    );
    let out = scan_survives(&sb, &[], Limits::default());
    assert!(out.stdout.contains("after_bad"), "{out}");
}

#[test]
fn an_unknown_or_hostile_coding_cookie_is_a_diagnostic() {
    // Invariant: `coding: rot13`, a 1 MB cookie name and `coding: utf-16` never crash.
    let sb = project_with(
        "cookie.py",
        format!("# -*- coding: {} -*-\nimport x\n", "rot13".repeat(200_000)),
    );
    sb.write("utf16.py", "# coding: utf-16\nimport y\n");
    sb.write("rot.py", "# coding: rot13\nvzcbeg bf\n");
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_utf16_file_with_its_bom_is_skipped_as_binary() {
    // Invariant: UTF-16 with a BOM is `binary-file`, not text full of NULs.
    let mut bytes = vec![0xff, 0xfe];
    for unit in "import utf16_mod\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let sb = project_with("wide.py", bytes);
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_sparse_source_over_4_gib_is_refused_by_size_without_reading() {
    // Invariant: ruff's offsets are u32; a 4 GiB + 1 file is refused even when the size
    // setting allows it, under a 4 GiB RLIMIT_AS (it is never read into memory).
    let sb = project_with("huge.py", "");
    std::fs::File::options()
        .write(true)
        .open(sb.project.join("huge.py"))
        .unwrap()
        .set_len((4 << 30) + 1)
        .unwrap();
    scan_survives(&sb, &["--max-file-size", "100000000000"], Limits::default())
        .assert_stderr_contains("huge.py");
}

#[test]
fn a_py_file_that_is_a_fifo_is_skipped_without_blocking() {
    // Invariant: a FIFO named `x.py` never blocks the scan.
    let sb = project_with("ok.py", "");
    let status = std::process::Command::new("mkfifo")
        .arg(sb.project.join("fifo.py"))
        .status()
        .unwrap();
    assert!(status.success());
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_py_file_linked_to_dev_zero_is_skipped_without_an_endless_read() {
    // Invariant: `zero.py -> /dev/zero` is refused, memory stays under 1 GiB.
    let sb = project_with("ok.py", "");
    sb.symlink("/dev/zero", "zero.py");
    scan_survives(
        &sb,
        &[],
        Limits {
            address_space: 1 << 30,
            ..Limits::default()
        },
    );
}

#[test]
fn a_notebook_nested_ten_thousand_deep_is_a_diagnostic() {
    // Invariant: notebook JSON deeper than serde_json's limit is an error, not an overflow.
    let sb = project_with(
        "deep.ipynb",
        format!(
            r#"{{"cells": {}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    );
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_notebook_with_wrong_types_everywhere_is_a_diagnostic() {
    // Invariant: cells that are numbers, sources that are objects, a null nbformat.
    let sb = project_with(
        "types.ipynb",
        r#"{"nbformat": null, "cells": [1, "x", {"cell_type": "code", "source": {"a": 1}},
            {"cell_type": ["code"], "source": ["import ok_cell\n"]}]}"#,
    );
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_notebook_code_cell_with_deep_nesting_is_guarded_per_cell() {
    // Invariant: a 100k-deep cell is blanked; the next cell's import is kept.
    let deep = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let notebook = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": [deep]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import nb_kept\n"]}
        ]
    });
    let sb = project_with("nb.ipynb", notebook.to_string());
    let out = scan_survives(&sb, &[], Limits::default());
    assert!(out.stdout.contains("nb_kept"), "{out}");
}

#[test]
fn a_truncated_notebook_and_a_binary_notebook_are_diagnostics() {
    // Invariant: JSON cut mid-string and random bytes named `.ipynb` never crash.
    let sb = project_with(
        "cut.ipynb",
        r#"{"cells": [{"cell_type": "code", "source": ["imp"#,
    );
    sb.write("bin.ipynb", [0u8, 159, 146, 150, 0xff, 0, 1, 2]);
    scan_survives(&sb, &[], Limits::default());
}

#[test]
fn a_notebook_with_two_hundred_thousand_empty_cells_is_scanned_within_limits() {
    // Invariant: many cells cost bounded time and memory.
    let cells = vec![r#"{"cell_type": "code", "source": ""}"#; 200_000].join(",");
    let sb = project_with(
        "many.ipynb",
        format!(r#"{{"nbformat": 4, "cells": [{cells}]}}"#),
    );
    scan_survives(&sb, &big_files(), Limits::default());
}
