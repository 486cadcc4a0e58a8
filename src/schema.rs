//! JSON Schemas of envscan's JSON outputs, generated from the Rust types with schemars.
//!
//! The committed files under `schemas/` are checked against the types by unit tests
//! ([`assert_current`]); `ENVSCAN_UPDATE_SCHEMAS=1 cargo test` rewrites them.

use std::path::PathBuf;

use schemars::JsonSchema;

/// The schema of `T` as pretty JSON with a final newline.
pub fn render<T: JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Where the committed schema called `name` lives.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name)
}

/// Fails when `schemas/<name>` differs from the schema of `T`; rewrites it instead when
/// `ENVSCAN_UPDATE_SCHEMAS=1`.
#[cfg(test)]
pub fn assert_current<T: JsonSchema>(name: &str) {
    let rendered = render::<T>();
    let path = path(name);
    if std::env::var_os("ENVSCAN_UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, rendered).unwrap();
        return;
    }
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "schemas/{name} is out of date; run ENVSCAN_UPDATE_SCHEMAS=1 cargo test"
    );
}
