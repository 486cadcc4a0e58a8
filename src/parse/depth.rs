//! A cheap estimate of how deeply each logical line nests, and the blanking of lines that nest
//! too deeply to parse safely.
//!
//! Why: ruff's parser grows its own stack, but walking and dropping the tree recurse once per
//! level, and a stack overflow is an abort that no panic handler catches. Parsing runs on threads
//! with large stacks (see `mod.rs`); this guard bounds the depth those threads must survive.
//!
//! The estimate runs a small lexer over the text (strings, f-string replacement fields, comments,
//! brackets, numbers, names, operators) and, for each logical line, takes the maximum of
//!
//! ```text
//! indentation levels + Σ over open brackets (1 + operators since the last comma at that level)
//! ```
//!
//! so `[[[…]]]` counts one per bracket, `1 + 1 + … + 1` one per operator (the tree of a binary
//! chain is as deep as the chain is long), `a.b.c…` one per dot, `f()()()` one per call, and
//! `not`, `lambda`, `await`, `if`/`else`, `and`/`or`, `in`/`is` one each. A comma or `;` resets its
//! level: `[1 + 2, 3 + 4, …]` with a million elements is flat. Parentheses count although they
//! make no tree node: CPython itself refuses 200 nested brackets, so no real file comes near.
//!
//! A logical line above [`MAX_NESTING`] is replaced by spaces (newlines kept, so every later line
//! keeps its number and column) and reported as `nesting-too-deep`; the rest of the file is
//! parsed. A block whose only statement was blanked then becomes a syntax error, reported too.

use std::borrow::Cow;

use crate::diagnostic::{Code, Diagnostic};

pub const NESTING_TOO_DEEP: Code = Code("nesting-too-deep");

/// The deepest logical line parsed. Far above what CPython compiles (its tokenizer refuses 200
/// nested brackets and its compiler a few thousand levels of operators); the parse threads'
/// stacks are sized for several times this depth (see `STACK_SIZE` in `mod.rs`).
pub const MAX_NESTING: u32 = 6_000;

/// A logical line that was blanked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line where the logical line starts.
    pub line: u32,
    /// The estimate, which may stop counting shortly after the limit.
    pub depth: u32,
    /// On the last one reported for a file: how many more were blanked and not listed.
    pub more: usize,
}

/// Too-deep statements listed one by one per file; the rest are counted on the last one.
pub const MAX_REPORTED: usize = 20;

impl TooDeep {
    pub fn diagnostic(&self, rel: &str, cell: Option<u32>) -> Diagnostic {
        let place = cell.map_or(String::new(), |cell| format!(" in cell {cell}"));
        let more = match self.more {
            0 => String::new(),
            n => format!(" (and {n} more such statements after it, not listed)"),
        };
        Diagnostic::warning(
            NESTING_TOO_DEEP,
            format!(
                "statement{place} nests about {} levels deep (limit {MAX_NESTING}); it was skipped \
                 and imports inside it are not seen{more}",
                self.depth
            ),
        )
        .with_file(rel)
        .with_line(self.line)
    }
}

/// Blanks every logical line of `text` that nests deeper than `limit`.
pub fn guard(text: &str, limit: u32) -> (Cow<'_, str>, Vec<TooDeep>) {
    // Every unit the estimate counts is a byte of its own (a bracket, an operator, a keyword,
    // the line that opened an indentation level), so no line of a text this short can exceed
    // the limit: most files need no lexing at all.
    if text.len() <= limit as usize {
        return (Cow::Borrowed(text), Vec::new());
    }
    let ranges = too_deep_lines(text.as_bytes(), limit);
    if ranges.is_empty() {
        return (Cow::Borrowed(text), Vec::new());
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut found = Vec::with_capacity(ranges.len());
    // Ranges come in order: count the newlines once, from the previous range on (counting
    // from the file's start for each range made 10k nested blocks take minutes).
    let (mut counted_to, mut line) = (0, 1);
    for (start, end, depth) in ranges {
        line += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = start;
        if found.len() < MAX_REPORTED {
            found.push(TooDeep {
                line: super::decode::saturate(line),
                depth,
                more: 0,
            });
        } else if let Some(last) = found.last_mut() {
            last.more += 1;
        }
        for byte in &mut bytes[start..end] {
            if !matches!(byte, b'\n' | b'\r') {
                *byte = b' ';
            }
        }
    }
    // Whole lines were blanked, so no multi-byte character was cut; the fallback never runs.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
    (Cow::Owned(text), found)
}

enum Frame {
    /// Code inside a bracket, or inside an f-string replacement field.
    Code { ops: u32, fstring_field: bool },
    Str {
        quote: u8,
        triple: bool,
        fstring: bool,
    },
}

/// Byte ranges (start, end, depth) of the logical lines deeper than `limit`.
fn too_deep_lines(b: &[u8], limit: u32) -> Vec<(usize, usize, u32)> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut base_ops: u32 = 0;
    // Σ over frames (1 + ops) + base_ops: the current depth inside the logical line.
    let mut depth: u32 = 0;
    let mut indents: Vec<usize> = vec![0];
    // Indentation levels of the current logical line (0 for blank and comment-only lines).
    let mut indent_level: u32 = 0;
    let mut line_start = 0;
    let mut line_max: u32 = 0;
    let mut at_line_start = true;
    let mut after_closer = false;
    let mut i = 0;

    while i < b.len() {
        if at_line_start {
            at_line_start = false;
            line_start = i;
            let (width, next) = indentation(b, i);
            i = next;
            indent_level = 0;
            if !matches!(b.get(i), None | Some(b'#' | b'\n' | b'\r')) {
                while indents.last().is_some_and(|&top| top > width) {
                    indents.pop();
                }
                if indents.last().is_some_and(|&top| top < width) {
                    indents.push(width);
                }
                indent_level = u32::try_from(indents.len() - 1).unwrap_or(u32::MAX);
            }
            line_max = indent_level;
            continue;
        }
        let c = b[i];
        if let Some(Frame::Str {
            quote,
            triple,
            fstring,
        }) = stack.last()
        {
            let (quote, triple, fstring) = (*quote, *triple, *fstring);
            match c {
                b'\\' => i += 2,
                b'{' if fstring => {
                    if b.get(i + 1) == Some(&b'{') {
                        i += 2;
                    } else {
                        stack.push(Frame::Code {
                            ops: 0,
                            fstring_field: true,
                        });
                        depth = depth.saturating_add(1);
                        i += 1;
                    }
                }
                b'\n' | b'\r' if !triple => {
                    // Unterminated string: end it here and let the newline end the line.
                    stack.pop();
                    depth = depth.saturating_sub(1);
                }
                _ if c == quote && (!triple || b[i..].starts_with(&[quote; 3])) => {
                    stack.pop();
                    depth = depth.saturating_sub(1);
                    i += if triple { 3 } else { 1 };
                    after_closer = false;
                }
                _ => i += 1,
            }
            line_max = line_max.max(depth.saturating_add(indent_level));
            continue;
        }
        let mut closer = false;
        let mut op = false;
        match c {
            b'\n' | b'\r' => {
                i += 1;
                if stack.is_empty() {
                    if c == b'\r' && b.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    if line_max > limit {
                        out.push((line_start, i, line_max));
                    }
                    base_ops = 0;
                    depth = 0;
                    at_line_start = true;
                }
            }
            b'\\' => {
                // A line continuation (or a stray backslash): never ends the logical line.
                i += 1;
                if b.get(i) == Some(&b'\r') {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\x0c' => i += 1,
            b'#' => {
                while i < b.len() && !matches!(b[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                // `f()()` and `a[0][1]` nest one call or subscript per bracket pair.
                op = after_closer;
                stack.push(Frame::Code {
                    ops: 0,
                    fstring_field: false,
                });
                depth = depth.saturating_add(1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                if let Some(Frame::Code { ops, fstring_field }) = stack.last() {
                    depth = depth.saturating_sub(ops.saturating_add(1));
                    let field = *fstring_field;
                    stack.pop();
                    // Closing a replacement field returns into its f-string.
                    closer = !field;
                }
                i += 1;
            }
            b',' | b';' => {
                match stack.last_mut() {
                    Some(Frame::Code { ops, .. }) => {
                        depth = depth.saturating_sub(*ops);
                        *ops = 0;
                    }
                    _ => {
                        depth = depth.saturating_sub(base_ops);
                        base_ops = 0;
                    }
                }
                i += 1;
            }
            b'\'' | b'"' => {
                i = open_string(b, i, b"", &mut stack);
                depth = depth.saturating_add(1);
            }
            b'0'..=b'9' => i = skip_number(b, i),
            b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => i = skip_number(b, i),
            b'.' => {
                if b[i..].starts_with(b"...") {
                    i += 3;
                } else {
                    op = true;
                    i += 1;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'~' | b'<' | b'>'
            | b'=' | b'!' | b':' => {
                let start = i;
                while i < b.len() && b"+-*/%@&|^~<>=!:".contains(&b[i]) {
                    i += 1;
                }
                // Assignment, keyword arguments, annotations and slices do not nest.
                op = !matches!(&b[start..i], b"=" | b":" | b"->" | b":=");
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                if matches!(b.get(i), Some(b'\'' | b'"')) && is_string_prefix(word) {
                    i = open_string(b, i, word, &mut stack);
                    depth = depth.saturating_add(1);
                } else {
                    op = matches!(
                        word,
                        b"and"
                            | b"or"
                            | b"not"
                            | b"if"
                            | b"else"
                            | b"lambda"
                            | b"await"
                            | b"in"
                            | b"is"
                    );
                }
            }
            _ => i += 1,
        }
        if op {
            match stack.last_mut() {
                Some(Frame::Code { ops, .. }) => *ops = ops.saturating_add(1),
                _ => base_ops = base_ops.saturating_add(1),
            }
            depth = depth.saturating_add(1);
        }
        if !matches!(c, b' ' | b'\t' | b'\x0c' | b'\n' | b'\r' | b'\\' | b'#') {
            after_closer = closer;
        }
        line_max = line_max.max(depth.saturating_add(indent_level));
    }
    if !at_line_start && line_max > limit {
        out.push((line_start, b.len(), line_max));
    }
    out
}

/// Width of the indentation at `i` (tabs to the next multiple of 8, as CPython) and its end.
fn indentation(b: &[u8], mut i: usize) -> (usize, usize) {
    let mut width = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' => width += 1,
            b'\t' => width = (width / 8 + 1) * 8,
            b'\x0c' => width = 0,
            _ => break,
        }
        i += 1;
    }
    (width, i)
}

fn is_string_prefix(word: &[u8]) -> bool {
    word.len() <= 2
        && word
            .iter()
            .all(|c| matches!(c.to_ascii_lowercase(), b'r' | b'u' | b'b' | b'f' | b't'))
}

/// Pushes the string starting at the quote `b[i]`; returns the index after its opening quote.
fn open_string(b: &[u8], i: usize, prefix: &[u8], stack: &mut Vec<Frame>) -> usize {
    let quote = b[i];
    let triple = b[i..].starts_with(&[quote; 3]);
    let fstring = prefix
        .iter()
        .any(|c| matches!(c.to_ascii_lowercase(), b'f' | b't'));
    stack.push(Frame::Str {
        quote,
        triple,
        fstring,
    });
    i + if triple { 3 } else { 1 }
}

fn skip_number(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_of(text: &str) -> u32 {
        too_deep_lines(text.as_bytes(), 0)
            .iter()
            .map(|r| r.2)
            .max()
            .unwrap_or(0)
    }

    /// The short-text fast path in [`guard`] rests on this: no line's estimate exceeds the
    /// length of the text. Checked on dense random texts of brackets, operators, keywords,
    /// strings and indentation (tabs widen a level by up to 8 columns with one byte).
    #[test]
    fn no_estimate_exceeds_the_length_of_the_text() {
        const PIECES: &[&str] = &[
            "(", "[", "{", ")", "]", "}", "+", "-", ".", ",", ";", "not ", "lambda ", "await ",
            " if ", " else ", " and ", "in ", "is ", "x", "1", "'", "\"", "f'{", "}'", "\n",
            "\n\t", "\n ", "\n\t\t", "\n\t ", "#", "\\\n", "@", "**", "~",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..3000 {
            let len = 1 + next() % 200;
            let text: String = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
            let deepest = depth_of(&text);
            assert!(
                deepest as usize <= text.len(),
                "{deepest} > {} for {text:?}",
                text.len()
            );
        }
        // Deepest per byte: one level per bracket, and one per line of growing indentation.
        assert_eq!(depth_of(&"[".repeat(100)), 100);
        let stairs: String = (1..50).map(|n| format!("{}x\n", "\t".repeat(n))).collect();
        assert!(depth_of(&stairs) as usize <= stairs.len());
    }

    #[test]
    fn nested_brackets_count_one_level_each() {
        assert_eq!(depth_of("x = [[[1]]]\n"), 3);
        assert_eq!(depth_of("f(g(h(1)))\n"), 3);
    }

    #[test]
    fn binary_operator_chains_count_one_level_per_operator() {
        let text = format!("x = {}1\n", "1 + ".repeat(50));
        assert_eq!(depth_of(&text), 50);
    }

    #[test]
    fn commas_reset_the_count_so_long_flat_lists_stay_shallow() {
        let text = format!("x = [{}]\n", "a.b + 1, ".repeat(10_000));
        assert_eq!(depth_of(&text), 3);
    }

    #[test]
    fn brackets_and_operators_inside_strings_and_comments_are_not_counted() {
        assert_eq!(depth_of("x = '((((+++' # [[[[ + + +\n"), 1);
        assert_eq!(depth_of("x = \"\"\"\n((((\n\"\"\"\n"), 1);
        assert_eq!(depth_of("x = r'\\'((('\n"), 1);
    }

    #[test]
    fn fstring_replacement_fields_are_code() {
        assert_eq!(depth_of("x = f'{[[1]]}'\n"), 4);
        assert_eq!(depth_of("x = f'{{[[[[[['\n"), 1);
    }

    #[test]
    fn indentation_levels_add_to_the_depth() {
        assert_eq!(depth_of("if a:\n    if b:\n        x = [1]\n"), 3);
    }

    #[test]
    fn lines_over_the_limit_are_blanked_keeping_line_numbers() {
        let deep = format!("x = {}{}\n", "[".repeat(100), "]".repeat(100));
        let text = format!("import os\n{deep}import sys\n");
        let (guarded, found) = guard(&text, 50);
        assert_eq!(
            found,
            [TooDeep {
                line: 2,
                depth: 100,
                more: 0,
            }]
        );
        assert_eq!(guarded.lines().nth(2), Some("import sys"));
        assert_eq!(guarded.len(), text.len());
        assert!(guarded.lines().nth(1).unwrap().trim().is_empty());
    }

    #[test]
    fn many_deep_statements_are_listed_up_to_a_cap_and_counted_after_it() {
        let deep = format!("x = {}{}\n", "[".repeat(60), "]".repeat(60));
        let text = deep.repeat(MAX_REPORTED + 7);
        let (guarded, found) = guard(&text, 50);
        assert_eq!(found.len(), MAX_REPORTED);
        assert_eq!(found.last().unwrap().more, 7);
        assert!(guarded.trim().is_empty());
    }

    #[test]
    fn an_unclosed_deep_bracket_blanks_to_the_end_of_the_file() {
        let text = format!("import os\nx = {}\nimport sys\n", "(".repeat(100));
        let (guarded, found) = guard(&text, 50);
        assert_eq!(found.len(), 1);
        assert_eq!(guarded.trim_end(), "import os");
    }
}
