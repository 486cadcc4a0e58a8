//! emit: the files envscan writes.

pub mod conda;
pub mod dockerfile;
pub mod plan;
pub mod pylock;
