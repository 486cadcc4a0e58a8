//! SIGKILL at random moments: the outputs stay a consistent set and temp files do not pile up.

#[allow(unused_imports)]
use super::harness::*;
