//! resolve: imported module names to files on the target environment's search path.

pub mod finder;
