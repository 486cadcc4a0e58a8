//! Secrets in a project: by name, by content, through symbolic and hard links; none reaches an archive or an output.

#[allow(unused_imports)]
use super::harness::*;
