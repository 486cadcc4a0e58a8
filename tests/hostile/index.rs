//! Package indexes that misbehave, from a 127.0.0.1 server the tests start.

#[allow(unused_imports)]
use super::harness::*;
