//! Running the parse stage: one task per file on a rayon pool of large-stack threads, each task
//! guarded by `catch_unwind`, results merged and sorted.
//!
//! The tree is built, walked and dropped inside the task, on the large stack: nothing of it
//! leaves the thread (dropping a deep tree recurses as much as walking it).

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use ruff_python_ast::Stmt;
use ruff_python_parser::{Mode, ParseError, ParseOptions, parse_cells_unchecked, parse_unchecked};
use ruff_text_size::TextRange;

use super::depth::{self, MAX_NESTING};
use super::imports::{Collector, Origin};
use super::source_map::{Location, SourceMap};
use super::{FileImports, FileRef, ImportSite, ParsedFiles, SiteExtra, Sites, decode, notebook};
use crate::cache::parse::ParseCache;
use crate::diagnostic::{self, Code, Diagnostic};
use crate::fsread::FolderOpener;
use crate::settings::ScanSettings;
use crate::walk::{SourceFile, SourceKind};

pub const SYNTAX_ERROR: Code = Code("syntax-error");
pub const PARSER_PANIC: Code = Code("parser-panic");

/// Stack of each parse thread. Measured in a debug build: parsing, walking and dropping
/// `[[…]]` [`MAX_NESTING`] (6,000) levels deep overflows 8 MiB but fits 16 MiB, and every
/// shape (brackets, operator chains, attribute and call chains, `not`, unary minus, lambdas)
/// 20,000 deep fits 64 MiB. 128 MiB leaves a margin of about 8 over the guard. It is reserved
/// address space only: pages are committed as the stack actually grows.
pub const STACK_SIZE: usize = 128 * 1024 * 1024;

/// Whether rayon's global pool runs on [`STACK_SIZE`] threads (see
/// [`use_large_stack_global_pool`]); otherwise each parse builds a pool of its own.
static GLOBAL_POOL_HAS_LARGE_STACKS: AtomicBool = AtomicBool::new(false);

/// Makes rayon's global pool one of large-stack threads, for a process (the CLI) that has not
/// used rayon yet, so every parallel stage shares the same threads instead of parsing on a pool
/// of its own that is started and stopped. (It was not what brought peak memory down: that was
/// mimalloc's purge delay, `src/main.rs`.) When the pool already exists, parsing builds its own.
pub fn use_large_stack_global_pool() {
    let built = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("envscan-{i}"))
        .build_global();
    if built.is_ok() {
        GLOBAL_POOL_HAS_LARGE_STACKS.store(true, Ordering::Relaxed);
    }
}

/// Parses every file (in parallel, on large-stack threads) and returns the imports and
/// diagnostics of all of them, sorted.
pub fn parse_files(files: &[SourceFile], settings: &ScanSettings) -> ParsedFiles {
    parse_files_cached(files, settings, None)
}

/// [`parse_files`], taking each file's result from `cache` when its entry matches the bytes
/// read, and keeping every new result there.
pub fn parse_files_cached(
    files: &[SourceFile],
    settings: &ScanSettings,
    cache: Option<&ParseCache>,
) -> ParsedFiles {
    let max_size = settings.max_file_size;
    let task = |opener: &mut FolderOpener, file: &SourceFile| {
        guarded(file, || {
            match decode::read_source(opener, &file.path, &file.rel, max_size) {
                Ok(bytes) => {
                    let mut result = match cache {
                        Some(cache) => {
                            cache.get_or_parse(file, &bytes, || parse_bytes(file, &bytes))
                        }
                        None => parse_bytes(file, &bytes),
                    };
                    // Sorted here, in parallel: the files come sorted, so their sites laid end
                    // to end are sorted too, with no sort (and no buffer) of all of them.
                    result.imports.sort();
                    // Kept for the rest of the run (see `Sites`): no growth slack.
                    result.imports.shrink_to_fit();
                    result
                }
                Err(diagnostic) => FileImports {
                    diagnostics: vec![diagnostic],
                    ..FileImports::default()
                },
            }
        })
    };
    let results: Vec<FileImports> = if GLOBAL_POOL_HAS_LARGE_STACKS.load(Ordering::Relaxed) {
        files
            .par_iter()
            .map_init(FolderOpener::default, task)
            .collect()
    } else {
        run_on_own_pool(files, task)
    };
    let mut file_refs = Vec::with_capacity(results.iter().map(|r| r.file_refs.len()).sum());
    let mut diagnostics = Vec::new();
    let mut parts = Vec::with_capacity(results.len());
    for result in results {
        parts.push(result.imports);
        file_refs.extend(result.file_refs);
        diagnostics.extend(result.diagnostics);
    }
    let imports = if files.is_sorted_by(|a, b| a.rel < b.rel) {
        // Each file's sites are sorted and the files are in order: so is the whole, kept as
        // the files' own lists.
        Sites::from_parts(parts)
    } else {
        let mut all: Vec<ImportSite> = parts.into_iter().flatten().collect();
        all.sort();
        Sites::from(all)
    };
    file_refs.sort();
    diagnostic::sort(&mut diagnostics);
    ParsedFiles {
        imports,
        file_refs,
        diagnostics,
    }
}

/// Runs `task` on every file on a pool of [`STACK_SIZE`] threads built for it.
fn run_on_own_pool(
    files: &[SourceFile],
    task: impl Fn(&mut FolderOpener, &SourceFile) -> FileImports + Sync + Send,
) -> Vec<FileImports> {
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("envscan-parse-{i}"))
        .build();
    match pool {
        Ok(pool) => pool.install(|| {
            files
                .par_iter()
                .map_init(FolderOpener::default, &task)
                .collect()
        }),
        // No pool (threads refused): one large-stack thread for all files, else nothing.
        Err(err) => on_large_stack(|| {
            let mut opener = FolderOpener::default();
            files.iter().map(|file| task(&mut opener, file)).collect()
        })
        .unwrap_or_else(|| {
            files
                .iter()
                .map(|file| failed(file, &format!("no parser thread could start: {err}")))
                .collect()
        }),
    }
}

/// Parses one in-memory source as if it were `file` (whose `path` is not read), on a
/// large-stack thread, exactly as [`parse_files`] does after reading.
pub fn parse_source(file: &SourceFile, bytes: &[u8]) -> FileImports {
    let result = on_large_stack(|| guarded(file, || parse_bytes(file, bytes)))
        .unwrap_or_else(|| failed(file, "no parser thread could start"));
    finish(result)
}

/// Decodes, depth-guards and parses a Python source that is not one of the project's files
/// (a plugin module in site-packages), and hands its statements to `f`, all on a large-stack
/// thread as [`parse_files`] does. `None` when the source does not decode, or `f` panics.
pub fn with_parsed_module<T: Send>(
    bytes: &[u8],
    rel: &str,
    f: impl FnOnce(&[Stmt]) -> T + Send,
) -> Option<T> {
    on_large_stack(|| {
        let text = decode::decode_python(bytes, rel).text?;
        let (text, _) = depth::guard(&text, MAX_NESTING);
        if u32::try_from(text.len()).is_err() {
            return None; // text offsets are u32: the parser would panic
        }
        let parsed = parse_unchecked(&text, ParseOptions::from(Mode::Module));
        let body = parsed.syntax().as_module().map(|m| m.body.as_slice())?;
        catch_unwind(AssertUnwindSafe(|| f(body))).ok()
    })
    .flatten()
}

fn finish(mut result: FileImports) -> FileImports {
    result.imports.sort();
    result.file_refs.sort();
    diagnostic::sort(&mut result.diagnostics);
    result
}

/// Runs `f` on a new thread with a [`STACK_SIZE`] stack; `None` if it cannot start or panics.
fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("envscan-parse".to_string())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, f)
            .ok()?
            .join()
            .ok()
    })
}

fn guarded(file: &SourceFile, f: impl FnOnce() -> FileImports) -> FileImports {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        failed(file, &format!("the parser failed on this file: {message}"))
    })
}

fn failed(file: &SourceFile, message: &str) -> FileImports {
    FileImports {
        diagnostics: vec![
            Diagnostic::error(PARSER_PANIC, message.to_string())
                .with_file(&file.rel)
                .with_hint("this is a bug in envscan; the file's imports are missing"),
        ],
        ..FileImports::default()
    }
}

/// Everything after reading: decode or extract cells, guard depth, parse, collect, drop.
fn parse_bytes(file: &SourceFile, bytes: &[u8]) -> FileImports {
    let mut out = FileImports::default();
    let (text, cells) = match file.kind {
        SourceKind::Python => {
            let decoded = decode::decode_python(bytes, &file.rel);
            out.diagnostics.extend(decoded.diagnostics);
            let Some(text) = decoded.text else {
                return out;
            };
            let (guarded, deep) = depth::guard(&text, MAX_NESTING);
            out.diagnostics
                .extend(deep.iter().map(|d| d.diagnostic(&file.rel, None)));
            // The decoded text itself when no line was blanked: no copy of every file.
            let guarded = match guarded {
                Cow::Owned(blanked) => Some(blanked),
                Cow::Borrowed(_) => None,
            };
            (guarded.map_or(text, Cow::Owned), None)
        }
        SourceKind::Notebook => {
            let cells = match notebook::code_cells(bytes, &file.rel) {
                Ok(cells) => cells,
                Err(diagnostic) => {
                    out.diagnostics.push(diagnostic);
                    return out;
                }
            };
            let mut text = String::new();
            let mut ranges = Vec::with_capacity(cells.len());
            for (i, cell) in cells.iter().enumerate() {
                let (source, deep) = depth::guard(&cell.source, MAX_NESTING);
                out.diagnostics.extend(
                    deep.iter()
                        .map(|d| d.diagnostic(&file.rel, Some(cell.index))),
                );
                if i > 0 {
                    text.push('\n');
                }
                let start = text.len();
                text.push_str(&source);
                ranges.push((start, text.len(), cell.index));
            }
            (Cow::Owned(text), Some(ranges))
        }
    };
    if u32::try_from(text.len()).is_err() {
        out.diagnostics.push(
            Diagnostic::warning(
                decode::FILE_TOO_LARGE,
                "decoded source is 4 GiB or more, beyond what the parser can address",
            )
            .with_file(&file.rel),
        );
        return out;
    }
    match cells {
        None => {
            let parsed = parse_unchecked(&text, ParseOptions::from(Mode::Module));
            let body = parsed.syntax().as_module().map_or(&[][..], |m| &m.body[..]);
            collect(
                file,
                &text,
                body,
                parsed.errors(),
                &SourceMap::new(&text, &[]),
                &mut out,
            );
        }
        Some(ranges) => {
            if ranges.is_empty() {
                return out;
            }
            let starts: Vec<(usize, u32)> = ranges.iter().map(|r| (r.0, r.2)).collect();
            // Offsets fit in u32: checked above.
            let text_ranges = ranges
                .iter()
                .map(|&(start, end, _)| TextRange::new((start as u32).into(), (end as u32).into()));
            // Plain Python mode: IPython syntax is already blanked (`notebook`), and ruff 0.0.10's
            // IPython mode panics (`unreachable!`, "IPython escape command expression is only
            // allowed for % and !") on some malformed cells; the random-input test found it.
            let parsed =
                parse_cells_unchecked(&text, text_ranges, &ParseOptions::from(Mode::Module));
            let map = SourceMap::new(&text, &starts);
            collect(
                file,
                &text,
                &parsed.syntax().body,
                parsed.errors(),
                &map,
                &mut out,
            );
        }
    }
    out
}

fn collect(
    file: &SourceFile,
    text: &str,
    body: &[Stmt],
    errors: &[ParseError],
    map: &SourceMap<'_>,
    out: &mut FileImports,
) {
    let origin = Origin {
        module: file.module.as_ref(),
        is_package: file.is_package,
    };
    let file_name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
    let collector = Collector::run(text, body, origin, file_name);
    for found in collector.file_refs.into_found() {
        let Location { cell, line, .. } = map.locate(found.offset);
        out.file_refs.push(FileRef {
            file: file.rel.clone(),
            cell,
            line,
            anchor: found.anchor,
            path: found.path,
            folder: found.folder,
        });
    }
    let rel: Arc<str> = Arc::from(file.rel.as_str());
    // Sized once: each file's sites are kept until every file is parsed, and a vector grown
    // by doubling (then shrunk to fit) copies them into fresh memory two or three times.
    out.imports.reserve_exact(collector.sites.len());
    for site in collector.sites {
        let Location { cell, line, column } = map.locate(site.offset);
        out.imports.push(ImportSite {
            module: site.module,
            member: site.member,
            file: Arc::clone(&rel),
            line,
            column,
            cell,
            context: site.context,
            extra: SiteExtra {
                conditions: site.conditions,
                relative: site.relative,
                call: site.call,
                entry_point_group: site.entry_point_group,
            }
            .boxed(),
            statement: site.statement.to_u32(),
        });
    }
    for problem in collector.problems {
        let location = map.locate(problem.offset);
        out.diagnostics.push(
            Diagnostic::new(
                problem.code,
                problem.severity,
                in_cell(location, &problem.message),
            )
            .with_file(&file.rel)
            .at(location.line, location.column),
        );
    }
    if let Some(first) = errors.first() {
        let location = map.locate(first.location.start());
        let more = match errors.len() - 1 {
            0 => String::new(),
            1 => " (and 1 more syntax error)".to_string(),
            n => format!(" (and {n} more syntax errors)"),
        };
        out.diagnostics.push(
            Diagnostic::error(
                SYNTAX_ERROR,
                in_cell(location, &format!("{}{more}", first.error)),
            )
            .with_file(&file.rel)
            .at(location.line, location.column)
            .with_hint("imports the parser recovered from the rest of the file are kept"),
        );
    }
}

fn in_cell(location: Location, message: &str) -> String {
    match location.cell {
        Some(cell) => format!("cell {cell}: {message}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_parsing_one_file_becomes_a_diagnostic_naming_it() {
        let file = SourceFile {
            path: "boom.py".into(),
            rel: "boom.py".to_string(),
            kind: SourceKind::Python,
            module: None,
            is_package: false,
        };
        let result = guarded(&file, || panic!("parser bug"));
        assert!(result.imports.is_empty());
        let diagnostic = &result.diagnostics[0];
        assert_eq!(diagnostic.code, PARSER_PANIC);
        assert_eq!(diagnostic.file.as_deref(), Some("boom.py"));
        assert!(diagnostic.message.contains("parser bug"));
    }
}
