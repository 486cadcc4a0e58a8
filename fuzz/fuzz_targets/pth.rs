//! `.pth` files and the setuptools editable finders their `import` lines load
//! (`envscan::env::pth::parse`, `editable::finder_module_of`, `editable::parse_finder`: a
//! finder is Python source from the environment, read statically).
//!
//! The first byte chooses: even, the rest is a `.pth` file (every path "exists", so each is
//! kept); odd, it is the source of `__editable___foo_finder.py`.
//! Properties: no panic; every path a `.pth` adds is absolute and normalised; every kept
//! `import` line starts with `import`; finder paths are normalised.
#![no_main]

use std::path::{Component, Path};

use envscan::env::{editable, pth};
use envscan_fuzz::text;
use libfuzzer_sys::fuzz_target;

fn normalised(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let site = Path::new("/venv/lib/python3.12/site-packages");
    let text = text(bytes);
    let mut diagnostics = Vec::new();
    if mode % 2 == 0 {
        let file = site.join("fuzz.pth");
        let parsed = pth::parse(&file, &text, site, |_| true, &mut diagnostics);
        for path in &parsed.paths {
            assert!(path.is_absolute() && normalised(path), "pth path {path:?}");
        }
        for (line, import) in &parsed.imports {
            assert!(
                *line >= 1 && import.starts_with("import"),
                "import line {import:?}"
            );
            if let Some(module) = editable::finder_module_of(import) {
                assert!(import.contains(module));
            }
        }
    } else {
        let file = site.join("__editable___foo_finder.py");
        let finder = editable::parse_finder(&text, &file, site, &mut diagnostics);
        for path in finder
            .mapping
            .values()
            .chain(finder.namespaces.values().flatten())
        {
            assert!(normalised(path), "finder path {path:?}");
        }
    }
});
