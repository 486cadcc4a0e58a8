//! The environment cache (see the parent module).
