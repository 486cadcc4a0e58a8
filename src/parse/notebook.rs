//! Jupyter notebooks: the Python source of their code cells.
//!
//! Format: nbformat 4 (<https://nbformat.readthedocs.io/en/latest/format_description.html>):
//! `cells[]` with `cell_type` and `source`, a string or a list of strings joined as they are
//! (each keeps its own `\n`). nbformat 3 (`worksheets[].cells[]`, code in `input`) is read too.
//! Markdown and raw cells are skipped; code cells are numbered from 1 in the order they appear.
//! A notebook whose kernel language is declared and is not Python is skipped with an info
//! diagnostic.
//!
//! IPython syntax is blanked out line by line (spaces, newlines kept, so lines keep their
//! numbers): line magics (`%pip install x`), shell escapes (`!ls`), captured ones
//! (`files = !ls`, `t = %timeit -o f()`), help (`obj?`, `??obj`) and their `\` continuations. A
//! cell magic (`%%bash`) blanks its whole cell, except those that run the rest of the cell as
//! Python (`%%time`, `%%timeit`, `%%capture`, `%%prun`), which blank only their first line.
//! None of these is an import, even `%pip install x` or `!pip install x`.

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};

pub const INVALID_NOTEBOOK: Code = Code("invalid-notebook");
pub const NOTEBOOK_NOT_PYTHON: Code = Code("notebook-not-python");

/// Cell magics whose body is Python.
const PYTHON_CELL_MAGICS: &[&str] = &["time", "timeit", "capture", "prun"];

/// One code cell, magics already blanked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// 1-based among the code cells.
    pub index: u32,
    pub source: String,
}

/// The code cells of a notebook, or the diagnostic that says why there are none.
pub fn code_cells(bytes: &[u8], rel: &str) -> Result<Vec<Cell>, Diagnostic> {
    let bytes = super::decode::strip_bom(bytes);
    let document: Value = serde_json::from_slice(bytes).map_err(|err| {
        Diagnostic::error(
            INVALID_NOTEBOOK,
            format!("notebook is not valid JSON: {err}"),
        )
        .with_file(rel)
        .at(
            super::decode::saturate(err.line()),
            super::decode::saturate(err.column()),
        )
    })?;
    let invalid = |what: &str| {
        Diagnostic::error(INVALID_NOTEBOOK, format!("not a notebook: {what}")).with_file(rel)
    };
    if let Some(language) = kernel_language(&document)
        && !language.eq_ignore_ascii_case("python")
    {
        return Err(Diagnostic::info(
            NOTEBOOK_NOT_PYTHON,
            format!("notebook kernel language is `{language}`, not Python; skipped"),
        )
        .with_file(rel));
    }
    let (cells, source_key): (Vec<&Value>, &str) = match document.get("cells") {
        Some(Value::Array(cells)) => (cells.iter().collect(), "source"),
        Some(_) => return Err(invalid("`cells` is not a list")),
        None => match document.get("worksheets") {
            Some(Value::Array(sheets)) => (
                sheets
                    .iter()
                    .filter_map(|s| s.get("cells")?.as_array())
                    .flatten()
                    .collect(),
                "input",
            ),
            _ => return Err(invalid("no `cells` list")),
        },
    };
    let mut out = Vec::new();
    for cell in cells {
        if cell.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let index = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
        let source = match cell.get(source_key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err(invalid(&format!("code cell {index} has no text source"))),
        };
        out.push(Cell {
            index,
            source: blank_ipython(&source),
        });
    }
    Ok(out)
}

fn kernel_language(document: &Value) -> Option<&str> {
    let metadata = document.get("metadata")?;
    metadata
        .get("kernelspec")
        .and_then(|k| k.get("language"))
        .or_else(|| metadata.get("language_info").and_then(|l| l.get("name")))
        .and_then(Value::as_str)
}

/// Replaces IPython-only lines by spaces, keeping line breaks.
pub fn blank_ipython(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut lines = source.split_inclusive('\n').peekable();
    if let Some(first) = lines.peek()
        && let Some(magic) = first.trim_start().strip_prefix("%%")
    {
        let name = magic.split_whitespace().next().unwrap_or("");
        if !PYTHON_CELL_MAGICS.contains(&name) {
            return blank(source);
        }
    }
    let mut continuing = false;
    for line in lines {
        let body = line.trim_end_matches(['\n', '\r']);
        if continuing || is_ipython_line(body) {
            out.push_str(&blank(line));
            continuing = body.ends_with('\\');
        } else {
            out.push_str(line);
        }
    }
    out
}

fn blank(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\r' { c } else { ' ' })
        .collect()
}

fn is_ipython_line(line: &str) -> bool {
    let text = line.trim();
    if text.starts_with('%') || text.starts_with('!') {
        return true;
    }
    // Help: `obj?`, `obj.attr??`, `?obj`.
    let dotted = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c == '.' || c == '_' || c.is_alphanumeric())
    };
    if let Some(name) = text.strip_suffix("??").or_else(|| text.strip_suffix('?'))
        && dotted(name)
    {
        return true;
    }
    if let Some(name) = text.strip_prefix("??").or_else(|| text.strip_prefix('?'))
        && dotted(name)
    {
        return true;
    }
    // Captured output: `files = !ls`, `a, b = %sx ...`.
    if let Some((target, value)) = text.split_once('=') {
        let value = value.trim_start();
        let target_ok = !target.trim().is_empty()
            && target
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ' ' | '\t'));
        if target_ok && (value.starts_with('!') || value.starts_with('%')) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_shell_lines_and_help_are_blanked_keeping_line_numbers() {
        let source = "%matplotlib inline\n!pip install x\nimport os\nfiles = !ls\nos?\nx = a % b\n";
        let blanked = blank_ipython(source);
        assert_eq!(blanked.len(), source.len());
        let lines: Vec<&str> = blanked.lines().collect();
        assert_eq!(lines[2], "import os");
        assert_eq!(lines[5], "x = a % b");
        for i in [0, 1, 3, 4] {
            assert!(lines[i].trim().is_empty(), "line {i}: {:?}", lines[i]);
        }
    }

    #[test]
    fn backslash_continuation_of_a_magic_is_blanked() {
        let blanked = blank_ipython("!echo a \\\n  b\nimport os\n");
        assert_eq!(blanked.lines().nth(2), Some("import os"));
        assert!(blanked.lines().nth(1).unwrap().trim().is_empty());
    }

    #[test]
    fn bash_cell_magic_blanks_the_cell_but_time_keeps_its_python() {
        assert!(blank_ipython("%%bash\nimport os\n").trim().is_empty());
        assert_eq!(
            blank_ipython("%%time\nimport os\n").trim_start(),
            "import os\n"
        );
    }

    #[test]
    fn code_cells_are_numbered_among_code_cells_only() {
        let notebook = r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [
              {"cell_type": "markdown", "source": ["# Title\n"], "metadata": {}},
              {"cell_type": "code", "source": ["import os\n", "import sys"], "metadata": {}},
              {"cell_type": "code", "source": "import json", "metadata": {}}
            ]}"##;
        let cells = code_cells(notebook.as_bytes(), "n.ipynb").unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].index, 1);
        assert_eq!(cells[0].source, "import os\nimport sys");
        assert_eq!(cells[1].source, "import json");
    }

    #[test]
    fn invalid_json_is_a_diagnostic_with_a_line() {
        let err = code_cells(b"{\n\"cells\": [\n", "n.ipynb").unwrap_err();
        assert_eq!(err.code, INVALID_NOTEBOOK);
        assert!(err.line.is_some());
    }

    #[test]
    fn r_notebook_is_skipped() {
        let notebook = r#"{"metadata": {"kernelspec": {"language": "R"}}, "cells": []}"#;
        let err = code_cells(notebook.as_bytes(), "n.ipynb").unwrap_err();
        assert_eq!(err.code, NOTEBOOK_NOT_PYTHON);
    }
}
