use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = envscan::cli::Cli::parse();
    match envscan::run(cli) {
        Ok(status) => status.into(),
        // `envscan scan | head`: the reader has what it wanted, as ripgrep treats it.
        Err(err) if envscan::output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = anstream::stderr();
            let _ = envscan::output::print_fatal(&mut stderr, &err);
            envscan::ExitStatus::Fatal.into()
        }
    }
}
