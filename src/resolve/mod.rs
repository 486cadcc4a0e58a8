//! resolve stage.
