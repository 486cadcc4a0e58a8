//! Writing results: JSON on stdout, human text with colour where the terminal takes it.
//!
//! Colour goes through `anstream`, which strips it when the stream is not a terminal or
//! `NO_COLOR` is set, so callers always write styled text.

use std::io::{self, Write};

use owo_colors::OwoColorize;
use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::diagnostic::{Diagnostic, Severity};

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
    let mut stderr = anstream::stderr().lock();
    for diagnostic in diagnostics {
        let shown = match diagnostic.severity {
            Severity::Error => true,
            Severity::Warning => !global.quiet,
            Severity::Info => global.verbose > 0,
        };
        if shown {
            write_diagnostic(&mut stderr, diagnostic)?;
        }
    }
    Ok(())
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
