use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = envscan::cli::Cli::parse();
    match envscan::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            let mut stderr = anstream::stderr();
            let _ = envscan::output::print_fatal(&mut stderr, &err);
            envscan::ExitStatus::Fatal.into()
        }
    }
}
