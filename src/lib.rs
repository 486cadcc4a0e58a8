//! envscan ships a Python program's environment to another machine without running it.
//!
//! ```text
//! PATH ──walk──▶ [SourceFile] ──parse (rayon, large stacks)──▶ [ImportSite]
//!                                                                  │
//!                                     graph ──▶ ModuleGraph: local modules → imported modules
//! --python ──env──▶ Environment { interpreter, search paths, distributions, file index }
//! ```
//!
//! Each stage is a module with a plain data type at its boundary (see `../shared/DESIGN.md`).
//! Problems in the user's files are [`diagnostic::Diagnostic`]s, collected and reported; only
//! usage errors and failures of envscan itself end a run early.

pub mod allocator;
pub mod analysis;
pub mod cache;
pub mod classify;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod emit;
pub mod env;
pub mod fsread;
pub mod graph;
pub mod index;
pub mod local_dists;
pub mod names;
pub mod output;
pub mod outputs;
pub mod pack_size;
pub mod parse;
pub mod project_files;
pub mod relpath;
pub mod resolve;
pub mod scan;
pub mod schema;
pub mod settings;
pub mod sources;
pub mod target;
#[cfg(test)]
mod test_support;
pub mod walk;

use std::process::ExitCode;

use cli::{Cli, Command};

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done.
    Success,
    /// A check failed: stale outputs, or errors under `--strict`.
    Failure,
    /// Usage error or fatal error.
    Fatal,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Fatal => 2,
        })
    }
}

/// Runs one command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    parse::use_large_stack_global_pool();
    match cli.command {
        Command::Scan(args) => commands::scan::run(&args, &cli.global),
        Command::Env(args) => commands::env::run(&args, &cli.global),
        Command::Lock(args) => commands::lock::run(&args, &cli.global, false),
        Command::Check(args) => commands::lock::run(&args, &cli.global, true),
        Command::Pack(args) => commands::pack::run(&args, &cli.global),
        Command::Plan(args) => commands::plan::run(&args, &cli.global),
        Command::Explain(args) => commands::explain::run(&args, &cli.global),
        Command::Graph(args) => commands::graph::run(&args, &cli.global),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Man(args) => commands::man::run(&args),
    }
}
