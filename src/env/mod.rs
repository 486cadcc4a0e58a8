//! env stage.
