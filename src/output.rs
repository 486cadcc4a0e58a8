//! Writing results: JSON on stdout, human text with colour where the terminal takes it.
//!
//! Colour goes through `anstream`, which strips it when the stream is not a terminal or
//! `NO_COLOR` is set, so callers always write styled text.

use std::io::{self, Write};

use owo_colors::OwoColorize;
use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::diagnostic::{Diagnostic, Severity};

/// Prints styled text on stdout in one write: `render` writes it into a buffer, which goes to
/// the terminal (or, stripped of colour, to a pipe or file) at the end. Written straight to
/// stdout, each line of a report of 20,000 modules would be a `write` call of its own.
pub fn print_text(render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
    let mut text = Vec::with_capacity(64 * 1024);
    render(&mut text)?;
    let stdout = anstream::stdout();
    if stdout.current_choice() == anstream::ColorChoice::Never {
        return write_once(io::stdout().lock(), &strip(text));
    }
    write_once(stdout.lock(), &text)
}

/// Whether stdout keeps colour (a terminal, `CLICOLOR_FORCE`): a long report that is only
/// stripped again (piped, in a file) is better written plain, [`plain_unless`].
pub fn stdout_has_colour() -> bool {
    anstream::stdout().current_choice() != anstream::ColorChoice::Never
}

/// `style` when `colour`, else the plain style, which writes no escape at all.
pub fn plain_unless(colour: bool, style: owo_colors::Style) -> owo_colors::Style {
    if colour {
        style
    } else {
        owo_colors::Style::new()
    }
}

/// `text` without its colour. anstream strips it too, but writes each piece between two
/// escape sequences as a `write` of its own: one per line of a report that dims part of each.
/// Text that holds no escape (written plain) is returned as it is, unread.
fn strip(text: Vec<u8>) -> Vec<u8> {
    if memchr::memchr(0x1b, &text).is_none() {
        return text;
    }
    anstream::adapter::strip_bytes(&text).into_vec()
}

fn write_once(mut out: impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}

/// Prints `value` as pretty JSON and a newline on stdout.
///
/// Through a buffer: Rust's stdout is line-buffered, and a scan report of 20,000 files has
/// close to two million lines, each of which would be a `write` of its own.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(())
}

/// What comes before each item of a list that [`print_json_with_list`] fills: `,` (dropped
/// before the first), a line break and the indentation of a top-level field's elements.
pub const LIST_ITEM: &[u8] = b",\n    ";

/// [`print_json`] of a value whose top-level field `key` holds the items of `groups`, passed
/// apart (the field itself left empty): the items, hundreds of thousands for a large scan, are
/// rendered in parallel by `write_group`, which writes each item of a group after
/// [`LIST_ITEM`], exactly as `to_writer_pretty` writes it at that depth (as
/// [`write_item_pretty`] does through serde), and spliced in. Each of `later` is another such
/// field, after `key` and in the value's order, whose items its own writer renders on this
/// thread. The bytes are those of [`print_json`] on the whole value.
pub fn print_json_with_list<T: Serialize, G: Sync>(
    value: &T,
    key: &str,
    groups: &[G],
    write_group: impl Fn(&G, &mut Vec<u8>) -> serde_json::Result<()> + Sync,
    later: &[LaterList<'_>],
) -> anyhow::Result<()> {
    let mut stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    write_json_with_list(&mut stdout, value, key, groups, write_group, later)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(())
}

/// A top-level list field that [`print_json_with_list`] fills after its main one: `write`
/// writes every item, each after [`LIST_ITEM`].
pub struct LaterList<'a> {
    pub key: &'a str,
    pub write: &'a dyn Fn(&mut Vec<u8>) -> serde_json::Result<()>,
}

/// One list item as [`print_json`] writes it at the depth of a top-level field's elements:
/// serde's pretty text, indented two levels. What a `write_item` of [`print_json_with_list`]
/// must give; the tests compare the scan's own writer with it.
#[cfg(test)]
pub fn write_item_pretty<I: Serialize>(item: &I, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let text = serde_json::to_vec_pretty(item)?;
    // Indented two levels deeper: four spaces after each line break.
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out.extend_from_slice(first);
    }
    for line in lines {
        out.extend_from_slice(b"\n    ");
        out.extend_from_slice(line);
    }
    Ok(())
}

fn write_json_with_list<T: Serialize, G: Sync>(
    out: &mut impl Write,
    value: &T,
    key: &str,
    groups: &[G],
    write_group: impl Fn(&G, &mut Vec<u8>) -> serde_json::Result<()> + Sync,
    later: &[LaterList<'_>],
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    let outer = serde_json::to_vec_pretty(value)?;
    let open = empty_list_end(&outer, key)?;
    out.write_all(&outer[..open])?;
    let render = |chunk: &[G]| {
        // Room for a chunk of a typical scan's files (about 140 KB) at once: grown from empty,
        // each chunk was copied into fresh memory six or seven times. Unwritten room costs no
        // memory: its pages are never touched.
        let mut buf = Vec::with_capacity(256 * 1024);
        for group in chunk {
            write_group(group, &mut buf)?;
        }
        Ok(buf)
    };
    // In batches, rendered on the pool while this thread writes the one before: writing 40 MB
    // is a copy into the kernel that kept one core busy and the pool idle. Two batches at most
    // wait, so only a few of them are held at a time.
    std::thread::scope(|scope| {
        let (send, batches) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            for batch in groups.chunks(512) {
                let chunks = batch
                    .par_chunks(64)
                    .map(render)
                    .collect::<Result<Vec<Vec<u8>>, serde_json::Error>>();
                let failed = chunks.is_err();
                // The writer stopped (a write failed): nothing more is wanted.
                if send.send(chunks).is_err() || failed {
                    return;
                }
            }
        });
        let mut first = true;
        for chunks in batches {
            for chunk in &chunks? {
                // Every item starts with `,`: all but the very first keep it.
                let skip = usize::from(first && !chunk.is_empty());
                first &= chunk.is_empty();
                out.write_all(&chunk[skip..])?;
            }
        }
        if !first {
            out.write_all(b"\n  ")?;
        }
        anyhow::Ok(())
    })?;
    let mut rest = &outer[open..];
    for list in later {
        let open = empty_list_end(rest, list.key)?;
        out.write_all(&rest[..open])?;
        let mut items = Vec::new();
        (list.write)(&mut items)?;
        // Without its first `,`; nothing at all for an empty list.
        if let Some(items) = items.get(1..) {
            out.write_all(items)?;
            out.write_all(b"\n  ")?;
        }
        rest = &rest[open..];
    }
    out.write_all(rest)?;
    Ok(())
}

/// Where the `]` of the empty top-level list `key` is in pretty JSON `text`: in pretty JSON a
/// newline inside a string is escaped, so the sequence searched for occurs nowhere else.
fn empty_list_end(text: &[u8], key: &str) -> anyhow::Result<usize> {
    let marker = format!("\n  {}: []", serde_json::to_string(key)?);
    match memchr::memmem::find(text, marker.as_bytes()) {
        Some(at) => Ok(at + marker.len() - 1),
        None => anyhow::bail!("internal error: no empty top-level `{key}` list to fill"),
    }
}

/// Whether a report command prints JSON (`--format json`) or text; `dot` and `mermaid` are
/// for `envscan graph` only.
pub fn wants_json(global: &GlobalArgs) -> anyhow::Result<bool> {
    match global.format {
        OutputFormat::Human => Ok(false),
        OutputFormat::Json => Ok(true),
        OutputFormat::Dot | OutputFormat::Mermaid => {
            anyhow::bail!("--format dot and --format mermaid are for `envscan graph` only")
        }
    }
}

/// Prints diagnostics on stderr, filtered by `-q` (errors only) and `-v` (info too).
pub fn print_diagnostics(diagnostics: &[Diagnostic], global: &GlobalArgs) -> io::Result<()> {
    // Rendered whole, then written in one call: stderr is unbuffered, and each diagnostic is
    // half a dozen pieces (a pre-commit hook's pipe took thousands of writes per check).
    let mut text = Vec::new();
    for diagnostic in diagnostics {
        let shown = match diagnostic.severity {
            Severity::Error => true,
            Severity::Warning => !global.quiet,
            Severity::Info => global.verbose > 0,
        };
        if shown {
            write_diagnostic(&mut text, diagnostic)?;
        }
    }
    if text.is_empty() {
        return Ok(());
    }
    let stderr = anstream::stderr();
    if stderr.current_choice() == anstream::ColorChoice::Never {
        return write_once(io::stderr().lock(), &strip(text));
    }
    write_once(stderr.lock(), &text)
}

fn write_diagnostic(out: &mut impl Write, d: &Diagnostic) -> io::Result<()> {
    if let Some(file) = &d.file {
        write!(out, "{}", file.bold())?;
        if let Some(line) = d.line {
            write!(out, ":{line}")?;
            if let Some(column) = d.column {
                write!(out, ":{column}")?;
            }
        }
        write!(out, ": ")?;
    }
    match d.severity {
        Severity::Error => write!(out, "{}", "error".red().bold())?,
        Severity::Warning => write!(out, "{}", "warning".yellow().bold())?,
        Severity::Info => write!(out, "{}", "info".cyan().bold())?,
    }
    writeln!(out, "[{}] {}", d.code, d.message)?;
    if let Some(hint) = &d.hint {
        writeln!(out, "  {} {hint}", "hint:".cyan())?;
    }
    Ok(())
}

/// A closing line for a human report: how many diagnostics of each severity were printed on
/// stderr, and how many `-q` or a missing `-v` held back, so a count never reads as output that
/// is not there: `0 errors, 1 warning on stderr; 3 info not shown (-v shows them)`.
pub fn diagnostics_summary(diagnostics: &[Diagnostic], global: &GlobalArgs) -> Option<String> {
    if diagnostics.is_empty() {
        return None;
    }
    let count = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut shown = vec![plural(count(Severity::Error), "error", "errors")];
    let mut held = Vec::new();
    let warnings = count(Severity::Warning);
    if !global.quiet {
        shown.push(plural(warnings, "warning", "warnings"));
    } else if warnings > 0 {
        held.push(format!(
            "{} not shown (-q hides them)",
            plural(warnings, "warning", "warnings")
        ));
    }
    let info = count(Severity::Info);
    if global.verbose > 0 {
        shown.push(format!("{info} info"));
    } else if info > 0 {
        held.push(format!("{info} info not shown (-v shows them)"));
    }
    let mut line = format!("{} on stderr", shown.join(", "));
    if !held.is_empty() {
        line.push_str(&format!("; {}", held.join(", ")));
    }
    Some(line)
}

/// Whether an error is stdout's reader going away (`envscan … | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = match cause.downcast_ref::<io::Error>() {
            Some(e) => Some(e.kind()),
            None => cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Prints a fatal error and its causes.
pub fn print_fatal(out: &mut impl Write, err: &anyhow::Error) -> io::Result<()> {
    write!(out, "{} {err}", "envscan: error:".red().bold())?;
    for cause in err.chain().skip(1) {
        write!(out, ": {cause}")?;
    }
    writeln!(out)
}

/// The exit status for a finished run: 1 under `--strict` when there were errors.
pub fn exit_status(diagnostics: &[Diagnostic], global: &GlobalArgs) -> crate::ExitStatus {
    if global.strict && crate::diagnostic::has_errors(diagnostics) {
        crate::ExitStatus::Failure
    } else {
        crate::ExitStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Item {
        name: String,
        tags: Vec<String>,
        nested: std::collections::BTreeMap<String, Vec<u32>>,
    }

    #[derive(Serialize)]
    struct Report<'a> {
        before: Vec<&'a str>,
        items: &'a [Item],
        after: &'a str,
        more: &'a [Item],
        end: u32,
    }

    /// Spliced output equals serde_json's own for empty, short and chunk-spanning lists,
    /// with keys and strings that look like the marker.
    #[test]
    fn a_spliced_list_writes_the_bytes_serde_json_writes() {
        for count in [
            0,
            1,
            2,
            63,
            64,
            65,
            511,
            512,
            513,
            1025,
            32 * 1024 + 1,
            40_000,
        ] {
            let items: Vec<Item> = (0..count)
                .map(|i| Item {
                    name: format!("n{i} \"items\": []\n  \"items\": []"),
                    tags: (0..i % 3).map(|t| format!("t{t}")).collect(),
                    nested: (0..i % 2).map(|k| (format!("k{k}"), vec![1, 2])).collect(),
                })
                .collect();
            let before = ["\n  \"items\": []", "\n  \"more\": []"];
            // A later list of another length: empty when the main one is not.
            let more = &items[..items.len().min(5) * usize::from(count % 2 == 0)];
            let whole = Report {
                before: before.to_vec(),
                items: &items,
                after: "end",
                more,
                end: 1,
            };
            let want = serde_json::to_vec_pretty(&whole).unwrap();
            let empty = Report {
                items: &[],
                more: &[],
                ..whole
            };
            let mut got = Vec::new();
            let write = |item: &Item, out: &mut Vec<u8>| {
                out.extend_from_slice(LIST_ITEM);
                write_item_pretty(item, out)
            };
            let write_more = |out: &mut Vec<u8>| more.iter().try_for_each(|item| write(item, out));
            let later = [LaterList {
                key: "more",
                write: &write_more,
            }];
            write_json_with_list(&mut got, &empty, "items", &items, write, &later).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want.clone()).unwrap(),
                "{count} items"
            );
            // The same items in groups of three (the last one shorter).
            let groups: Vec<&[Item]> = items.chunks(3).collect();
            let write_group = |group: &&[Item], out: &mut Vec<u8>| {
                group.iter().try_for_each(|item| write(item, out))
            };
            let mut got = Vec::new();
            write_json_with_list(&mut got, &empty, "items", &groups, write_group, &later).unwrap();
            assert_eq!(got, want, "{count} items in groups of three");
        }
    }
}
