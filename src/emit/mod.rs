//! emit: the files envscan writes.

pub mod pylock;
