//! `envscan completions SHELL`: a completion script generated from the clap definitions, so it
//! always knows every command, option and value the binary does.

use std::io::Write;

use crate::ExitStatus;
use crate::cli::CompletionsArgs;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut command = crate::cli::command();
    // Into a buffer first: clap_complete panics on a write error, and a closed stdout
    // (`envscan completions bash | head`) must end the run quietly like any other command.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "envscan", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitStatus::Success)
}
