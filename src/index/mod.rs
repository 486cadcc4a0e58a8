//! index stage.
