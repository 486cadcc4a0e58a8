//! Project trees that are hostile to a walker: links, devices, FIFOs, ignore files that do not load.

#[allow(unused_imports)]
use super::harness::*;
