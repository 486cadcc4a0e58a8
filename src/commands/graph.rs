//! `envscan graph`: the module graph as Graphviz dot (default), Mermaid or JSON.

use std::io::Write;

use crate::ExitStatus;
use crate::analysis::{Analysis, RunOptions};
use crate::cli::{GlobalArgs, GraphArgs, OutputFormat};
use crate::graph::render::{self, RenderOptions};
use crate::output;

pub fn run(args: &GraphArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let analysis = Analysis::run(
        &args.analysis,
        RunOptions {
            skip_index: true,
            ..RunOptions::default()
        },
    )?;
    let options = RenderOptions {
        stdlib: args.stdlib,
        focus: args.focus.clone(),
        distribution_of: analysis.distribution_of_modules(),
    };
    let Some(view) = render::view(&analysis.scan.graph, &analysis.scan.imports, &options) else {
        anyhow::bail!(
            "`{}` is neither a module nor a distribution in this project's graph",
            args.focus.as_deref().unwrap_or_default()
        );
    };
    match global.format {
        OutputFormat::Json => output::print_json(&view)?,
        OutputFormat::Mermaid => write!(std::io::stdout().lock(), "{}", render::to_mermaid(&view))?,
        OutputFormat::Human | OutputFormat::Dot => {
            write!(std::io::stdout().lock(), "{}", render::to_dot(&view))?;
        }
    }
    output::print_diagnostics(&analysis.diagnostics, global)?;
    Ok(output::exit_status(&analysis.diagnostics, global))
}
