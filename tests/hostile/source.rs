//! Python sources that are hostile to a parser: depth, size, encodings.

#[allow(unused_imports)]
use super::harness::*;
