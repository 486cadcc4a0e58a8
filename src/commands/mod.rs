//! One module per subcommand, each a function from its arguments to an [`ExitStatus`].

pub mod env;
pub mod scan;
