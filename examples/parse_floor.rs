//! The floor `scripts/bench-scan` measures `envscan scan` against: find the `.py` files under a
//! folder (the `ignore` crate's walk, honouring .gitignore as envscan does), then read and
//! parse each with ruff's parser on a rayon pool, counting statements. Nothing else: no
//! decoding, no import collection, no graph, no output but one line.
//!
//!     cargo run --release --example parse_floor -- DIR

use std::path::PathBuf;

use rayon::prelude::*;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

fn main() {
    let Some(root) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: parse_floor DIR");
        std::process::exit(2);
    };
    let files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|path| path.extension().is_some_and(|e| e == "py"))
        .collect();
    let statements: usize = files
        .par_iter()
        .map(|path| {
            let Ok(text) = std::fs::read_to_string(path) else {
                return 0;
            };
            let parsed = parse_unchecked(&text, ParseOptions::from(Mode::Module));
            parsed.syntax().as_module().map_or(0, |m| m.body.len())
        })
        .sum();
    println!("{} files, {statements} top-level statements", files.len());
}
