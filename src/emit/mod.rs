//! emit: the files envscan writes.

pub mod conda;
pub mod pylock;
