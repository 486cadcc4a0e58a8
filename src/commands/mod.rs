//! One module per subcommand, each a function from its arguments to an [`ExitStatus`].
//!
//! [`ExitStatus`]: crate::ExitStatus

pub mod completions;
pub mod env;
pub mod explain;
mod explain_unneeded;
pub mod graph;
pub mod lock;
pub mod man;
pub mod pack;
pub mod plan;
pub mod scan;
mod scan_json;
