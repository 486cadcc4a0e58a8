//! emit: turns the resolved environment into the files a remote runner consumes.
//!
//! Every output is deterministic (same inputs, same bytes) and written all or nothing through
//! [`atomic::OutputSet`]; [`archive`] packs local code into content-addressed tar.gz files.
//! One file per output format: [`pylock`], [`conda`], [`plan`], [`dockerfile`]; [`wheel`]
//! writes the pure-Python wheels of local distributions.

pub mod archive;
pub mod atomic;
pub mod conda;
pub mod dockerfile;
pub mod plan;
pub mod plan_check;
pub mod pylock;
pub mod secrets;
pub mod wheel;
