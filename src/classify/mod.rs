//! classify: what each needed module or distribution is, and how it travels.

pub mod closure;
pub mod suggest;
