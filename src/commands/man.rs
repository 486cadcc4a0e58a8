//! `envscan man`: the man page, generated from the clap definitions by clap_mangen.

use std::io::Write;

use anyhow::Context as _;

use crate::ExitStatus;
use crate::cli::ManArgs;

pub fn run(args: &ManArgs) -> anyhow::Result<ExitStatus> {
    let command = crate::cli::command();
    match &args.dir {
        Some(dir) => {
            fs_err::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            std::io::stdout().lock().write_all(&page)?;
        }
    }
    Ok(ExitStatus::Success)
}
