//! The command line. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Ship a Python program's environment to another machine: scan its imports, find the
/// installed distributions that provide them, and write a reproducible lock.
#[derive(Debug, Parser)]
#[command(name = "envscan", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk a project, parse every Python file and notebook, and report its imports.
    Scan(ScanArgs),
    /// Show the target environment as envscan reads it: interpreter, search paths,
    /// distributions and the modules each provides.
    Env(EnvArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Readable text, coloured on a terminal.
    #[default]
    Human,
    /// Stable JSON described by a schema under `schemas/`.
    Json,
}

/// Options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub format: OutputFormat,

    /// Exit with status 1 when any error-level diagnostic was reported.
    #[arg(long, global = true)]
    pub strict: bool,

    /// Print less: only errors and the result.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more: info-level diagnostics too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Options of commands that read a project.
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// The project folder.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Leave out files and folders matching this glob (relative to PATH); repeatable.
    /// Adds to `[tool.envscan] exclude`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// The Python version the code targets, as X.Y; decides what is standard library.
    #[arg(long, value_name = "X.Y")]
    pub python_version: Option<String>,

    /// Skip source files larger than this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
}

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// The project folder, where `[tool.envscan]` and a `.venv` are looked for.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The target interpreter, or its prefix folder.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Ask the interpreter itself (runs it) instead of reading the filesystem alone.
    #[arg(long)]
    pub query_interpreter: bool,
}
