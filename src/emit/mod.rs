//! emit: turns the resolved environment into the files a remote runner consumes.
//!
//! Every output is deterministic (same inputs, same bytes) and written all or nothing through
//! [`atomic::OutputSet`]; [`archive`] packs local code into content-addressed tar.gz files.

pub mod archive;
pub mod atomic;
pub mod secrets;
