//! [tool.envscan] tables and flags a repository or a user gets wrong.

#[allow(unused_imports)]
use super::harness::*;
