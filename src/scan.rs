//! The front half every command shares: walk the project, parse its files, build the graph.

use crate::cache::parse::ParseCache;
use crate::diagnostic::{self, Diagnostic};
use crate::graph::{self, ModuleGraph, SiteIndex};
use crate::parse::{self, FileRef, ImportSite, Sites};
use crate::settings::ScanSettings;
use crate::walk::{self, ExtensionFile, ImportRoot, SourceFile};

/// Everything known about a project's source.
#[derive(Debug)]
pub struct ProjectScan {
    pub files: Vec<SourceFile>,
    /// Compiled extension modules built into the project's folders.
    pub extensions: Vec<ExtensionFile>,
    pub roots: Vec<ImportRoot>,
    /// Sorted by file, line, column, module.
    pub imports: Sites,
    /// Project paths the code names with string literals, sorted (see `parse::file_refs`).
    pub file_refs: Vec<FileRef>,
    pub graph: ModuleGraph,
    /// Sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl ProjectScan {
    /// The import site a graph edge stands for.
    pub fn site(&self, index: SiteIndex) -> Option<&ImportSite> {
        self.imports.get(index as usize)
    }
}

pub fn scan_project(settings: &ScanSettings, mut diagnostics: Vec<Diagnostic>) -> ProjectScan {
    // The cache file is read and decoded while the tree is walked.
    let (walked, cache) = std::thread::scope(|scope| {
        let cache = settings.cache_dir.as_deref().map(|dir| {
            scope.spawn(move || ParseCache::open(dir, &settings.root, settings.max_file_size))
        });
        let walked = walk::walk(settings);
        (walked, cache.and_then(|handle| handle.join().ok()))
    });
    diagnostics.extend(walked.diagnostics);
    // The project's nodes need only the walk: made on a thread of their own while the pool
    // parses, instead of on the main thread after it.
    let (parsed, local) = std::thread::scope(|scope| {
        let local =
            scope.spawn(|| graph::local_nodes(&walked.files, &walked.extensions, &walked.roots));
        let parsed = parse::parse_files_cached(&walked.files, settings, cache.as_ref());
        let local = local
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (parsed, local)
    });
    if let Some(cache) = cache {
        cache.save();
    }
    diagnostics.extend(parsed.diagnostics);
    let imports = parsed.imports; // sorted by parse_files
    let graph = graph::connect(local, &imports, settings.python_version, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    ProjectScan {
        files: walked.files,
        extensions: walked.extensions,
        roots: walked.roots,
        imports,
        file_refs: parsed.file_refs,
        graph,
        diagnostics,
    }
}
