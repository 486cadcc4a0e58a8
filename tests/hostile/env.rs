//! Environments pip, conda and hand edits leave broken: metadata, RECORD, .pth, direct_url, pyvenv.cfg.

#[allow(unused_imports)]
use super::harness::*;
