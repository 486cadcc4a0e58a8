//! `envscan env`: the target environment as envscan reads it.

use crate::ExitStatus;
use crate::cli::{EnvArgs, GlobalArgs};

pub fn run(args: &EnvArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let _ = (args, global);
    anyhow::bail!("envscan env is being built")
}
