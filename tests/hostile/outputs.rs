//! Where outputs go: outside the project, devices, FIFOs, links, read-only folders, a full disk.

#[allow(unused_imports)]
use super::harness::*;
