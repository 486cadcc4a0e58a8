//! The source import extractor: a file's bytes → import sites, through decoding (PEP 263
//! cookies, BOM, NUL, binary sniffing), notebook cell extraction, the nesting-depth guard,
//! ruff's parser and the import collector (`envscan::parse::parse_source`).
//!
//! The first byte chooses the file: bit 0 a notebook (`.ipynb`) rather than a `.py`, bit 1
//! an `__init__.py` (relative imports resolve against the package itself).
//! Properties: no panic anywhere (libFuzzer's hook aborts even on a panic the per-file guard
//! would catch, and the guard's `parser-panic` diagnostic is checked too); every site has a
//! valid absolute module name and 1-based positions; sites come out sorted.
#![no_main]

use std::path::PathBuf;

use envscan::names::ModuleName;
use envscan::parse::{PARSER_PANIC, parse_source};
use envscan::walk::{SourceFile, SourceKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let notebook = mode & 1 == 1;
    let is_package = mode & 2 == 2;
    let (rel, module) = match (notebook, is_package) {
        (true, _) => ("notebooks/explore.ipynb", None),
        (false, true) => ("pkg/sub/__init__.py", ModuleName::new("pkg.sub")),
        (false, false) => ("pkg/sub/mod.py", ModuleName::new("pkg.sub.mod")),
    };
    let file = SourceFile {
        path: PathBuf::from("/nonexistent/envscan-fuzz").join(rel),
        rel: rel.to_string(),
        kind: if notebook {
            SourceKind::Notebook
        } else {
            SourceKind::Python
        },
        module,
        is_package,
    };
    let result = parse_source(&file, bytes);
    if let Some(d) = result.diagnostics.iter().find(|d| d.code == PARSER_PANIC) {
        panic!("parser-panic diagnostic: {}", d.message);
    }
    for site in &result.imports {
        assert!(
            ModuleName::new(site.module.as_str()).is_some(),
            "invalid module name {:?}",
            site.module.as_str()
        );
        assert!(site.line >= 1 && site.column >= 1, "0 position in {site:?}");
        assert_eq!(&*site.file, rel);
        assert_eq!(site.cell.is_some(), notebook, "cell number in {site:?}");
    }
    assert!(result.imports.is_sorted(), "import sites out of order");
    for d in &result.diagnostics {
        assert!(d.line.is_none_or(|l| l >= 1), "0 line in {d:?}");
    }
});
