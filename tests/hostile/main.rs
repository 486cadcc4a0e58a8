//! The fault matrix of issue 14: one test per hostile case, grouped by where the hostility
//! comes from. Every test names the invariant it checks in its name and first comment: the
//! exit code, no panic, no partial file, nothing written outside the project, no secret in
//! any output, bounded time and memory (through rlimits on the child, see [`harness`]).

#[path = "../support/mod.rs"]
mod support;

#[path = "../index_support/mod.rs"]
mod index_support;

mod harness;

mod config;
mod env;
mod index;
mod kills;
mod outputs;
mod plugins;
mod secrets;
mod source;
mod tree;
