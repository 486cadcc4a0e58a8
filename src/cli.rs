//! The command line. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::builder::{EnumValueParser, TypedValueParser as _};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// `envscan --version`: the version and the git commit built from (`unknown` when built
/// outside a git checkout, as from an sdist; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ENVSCAN_GIT_COMMIT"),
    ")"
);

/// Ship a Python program's environment to another machine: scan its imports, find the
/// installed distributions that provide them, and write a reproducible lock.
#[derive(Debug, Parser)]
#[command(name = "envscan", version = VERSION, about, max_term_width = 100)]
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
    /// Resolve the project's imports to installed distributions, verify them on the index and
    /// write the lock, conda.yaml and build plan.
    Lock(LockArgs),
    /// Check that the lock, conda.yaml and build plan are current; write nothing.
    /// Same as `envscan lock --check`.
    Check(LockArgs),
    /// Pack the project's local code (and editable installs) into deterministic archives.
    Pack(PackArgs),
    /// Print the build plan, or render it as a Dockerfile.
    Plan(PlanArgs),
    /// Explain why a module or distribution is in (or out of) the lock.
    Explain(ExplainArgs),
    /// Print the module graph as Graphviz dot, Mermaid or JSON.
    Graph(GraphArgs),
    /// Print a shell completion script generated from these definitions.
    ///
    /// bash: `envscan completions bash > ~/.local/share/bash-completion/completions/envscan`;
    /// zsh: `envscan completions zsh > ~/.zfunc/_envscan` (with `~/.zfunc` on `fpath`);
    /// fish: `envscan completions fish > ~/.config/fish/completions/envscan.fish`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder.
    ///
    /// `envscan man | man -l -`; `envscan man --dir ~/.local/share/man/man1`.
    Man(ManArgs),
}

/// The whole command line as clap sees it, for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Readable text, coloured on a terminal.
    #[default]
    Human,
    /// Stable JSON described by a schema under `schemas/`.
    Json,
    /// Graphviz dot (`envscan graph` only; its default).
    Dot,
    /// A Mermaid flowchart (`envscan graph` only).
    Mermaid,
}

/// The formats of every command but `graph`: what their `--help` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Readable text, coloured on a terminal.
    Human,
    /// Stable JSON described by a schema under `schemas/`.
    Json,
}

impl From<ReportFormat> for OutputFormat {
    fn from(format: ReportFormat) -> Self {
        match format {
            ReportFormat::Human => OutputFormat::Human,
            ReportFormat::Json => OutputFormat::Json,
        }
    }
}

/// The formats of `envscan graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz dot.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Stable JSON described by `schemas/graph.schema.json`.
    Json,
}

impl From<GraphFormat> for OutputFormat {
    fn from(format: GraphFormat) -> Self {
        match format {
            GraphFormat::Dot => OutputFormat::Dot,
            GraphFormat::Mermaid => OutputFormat::Mermaid,
            GraphFormat::Json => OutputFormat::Json,
        }
    }
}

/// Options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    // `graph` defines an argument of the same id, which clap then does not propagate to it;
    // its value comes back here, so commands read `format` from these options alone.
    /// Output format (`envscan graph` has formats of its own).
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "human",
        value_parser = EnumValueParser::<ReportFormat>::new().map(OutputFormat::from),
    )]
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

    /// Where index responses and the parse and environment caches are kept (default:
    /// ENVSCAN_CACHE_DIR, else $XDG_CACHE_HOME/envscan).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Parse every file and read every distribution afresh: neither read nor write the parse
    /// and environment caches (the index cache is still used; `--offline` relies on it).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// The target interpreter, or its prefix folder: its version decides what is standard
    /// library (unless --python-version). Else `[tool.envscan] python-version`, else 3.12.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

/// Options of commands that analyse a project in its environment.
#[derive(Debug, Args, Clone, Default)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// The target interpreter, or its prefix folder.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// The package index to verify distributions on (default: PIP_INDEX_URL, pip.conf, PyPI).
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,

    /// Another index to look in; repeatable.
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,

    /// Open no network connection: verify from the cache only.
    #[arg(long)]
    pub offline: bool,

    /// The platform the environment is rebuilt on, such as `linux-x86_64` (the default,
    /// glibc 2.28), `linux-x86_64-glibc2.17`, `linux-aarch64-musl1.2`, `macos-arm64-14`,
    /// `windows-amd64`. Else `[tool.envscan] target`. Each locked package's file is the one
    /// that machine's installer picks.
    #[arg(long, visible_alias = "target", value_name = "PLATFORM")]
    pub target_platform: Option<String>,

    /// The CUDA version of the target's GPU stack, such as `12.4`: GPU builds of torch and
    /// its family are switched to the matching `+cuXYZ` build, and conda gets the CUDA pins.
    #[arg(long, value_name = "X.Y")]
    pub target_cuda: Option<String>,

    /// Never fall back to the first `python3` on PATH, nor to the environment envscan itself
    /// runs from: fail unless --python, `[tool.envscan] python`, a `.venv`/`venv` in the
    /// project or an activated virtual environment names the target. The pre-commit hooks
    /// pass it, since their PATH and VIRTUAL_ENV are the hook's own environment.
    #[arg(long)]
    pub no_path_python: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LockArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Write the lock here (relative to the project); the conda file and plan go beside it.
    #[arg(long, value_name = "PATH")]
    pub lock: Option<PathBuf>,

    /// Write nothing; exit 1 with a diff when an output is stale.
    #[arg(long)]
    pub check: bool,

    /// Write the outputs, then exit 1 when one of them changed, as formatters do under
    /// pre-commit.
    #[arg(long, conflicts_with = "check")]
    pub fail_on_change: bool,

    /// The base image of the build plan.
    #[arg(long, value_name = "IMAGE")]
    pub base_image: Option<String>,
}

/// Where `envscan pack` writes unless `--out` says otherwise (relative to the project).
pub const DEFAULT_PACK_OUT: &str = "envscan-archives";

#[derive(Debug, Args, Clone)]
pub struct PackArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Where the archives, wheels and their manifest go. The lock names the wheels of local
    /// distributions in the default folder, relative to itself.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PACK_OUT)]
    pub out: PathBuf,

    /// Fail, writing nothing, when an archive's files add up to more than this (`100MB`,
    /// `1.5GiB`, or bytes); else `[tool.envscan] max-pack-size`.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_pack_size: Option<u64>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::settings::parse_byte_size(text)
}

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// The build plan to read, or the project folder whose plan to read (the plan beside
    /// its lock).
    #[arg(default_value = ".")]
    pub plan: PathBuf,

    /// Render it as a Dockerfile (build context: the plan's folder, archives in `archives/`).
    #[arg(long)]
    pub dockerfile: bool,

    /// The pack manifest that maps local sources to archives.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// A module (`google.protobuf`) or distribution (`protobuf`) name.
    pub name: String,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args, Clone)]
pub struct GraphArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Show standard-library modules too.
    #[arg(long)]
    pub stdlib: bool,

    /// Only the import chains that reach this module or distribution.
    #[arg(long, value_name = "NAME")]
    pub focus: Option<String>,

    // Same id as the global option, so that one is not propagated here; the value lands in
    // `GlobalArgs::format` too.
    /// Output format.
    #[arg(
        long,
        id = "format",
        value_name = "FORMAT",
        default_value = "dot",
        value_parser = EnumValueParser::<GraphFormat>::new().map(OutputFormat::from),
    )]
    pub format: OutputFormat,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Write `envscan.1` and one `envscan-COMMAND.1` per command into this folder instead of
    /// printing `envscan.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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

    /// Where the environment cache is kept (default: ENVSCAN_CACHE_DIR, else
    /// $XDG_CACHE_HOME/envscan).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Read every distribution afresh: neither read nor write the environment cache.
    #[arg(long)]
    pub no_cache: bool,
}
