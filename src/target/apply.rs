//! The target's decisions applied to an analysis: GPU builds switched to the target's
//! variant, and each verified package's coverage (the file the target installs, or the gap,
//! which is an error naming what exists instead).

use super::coverage::{Build, Coverage, coverage};
use super::priority::TagPriority;
use super::variant::{self, Variant};
use crate::analysis::{Analysis, NO_USABLE_FILE};
use crate::classify::{Class, Reason};
use crate::diagnostic::{Code, Diagnostic};
use crate::index::{Found, IndexClient, Route};
use crate::names::PackageName;

/// An installed GPU build was replaced by the target's build of the same release.
pub const VARIANT_SWITCHED: Code = Code("target-variant-switched");
/// An installed GPU build does not suit the target and no index has the one that would.
pub const VARIANT_MISMATCH: Code = Code("target-variant-mismatch");
/// A package builds from its sdist on the target, and nothing says whether that needs a
/// compiler.
pub const SDIST_ONLY: Code = Code("target-sdist-only");
/// A CUDA-suffixed distribution (`nvidia-*-cu12`) is built for another CUDA major version
/// than the target's.
pub const CUDA_MISMATCH: Code = Code("target-cuda-mismatch");

impl Analysis {
    /// Looks up the target's build of every package whose installed GPU build does not suit
    /// the target (`+cpu` for a CUDA 12.4 target) and locks it instead; returns the packages
    /// still to be looked up at their installed version.
    pub(crate) fn switch_variants(
        &mut self,
        client: &IndexClient,
        routed: Vec<(PackageName, String, Route)>,
    ) -> Vec<(PackageName, String, Route)> {
        let Some(cuda) = self.target.cuda else {
            return routed;
        };
        let mut rest = Vec::new();
        let mut switching = Vec::new();
        for (name, version, route) in routed {
            match variant::switch_candidates(&name, &version, &self.target) {
                Some(candidates) => switching.push((name, version, route, candidates)),
                None => rest.push((name, version, route)),
            }
        }
        let wanted: Vec<(PackageName, String, Route)> = switching
            .iter()
            .flat_map(|(name, _, route, candidates)| {
                candidates
                    .iter()
                    .map(|c| (name.clone(), c.clone(), route.clone()))
            })
            .collect();
        let mut answers = client.lookup_routed(&wanted).into_iter();
        for (name, installed, route, candidates) in switching {
            // Every candidate's answer is taken, so the next package's start where they should.
            let answers: Vec<_> = answers.by_ref().take(candidates.len()).collect();
            let found =
                candidates
                    .iter()
                    .zip(answers)
                    .find_map(|(candidate, answer)| match answer {
                        Ok(Found::Files(files)) => Some((candidate.clone(), files)),
                        _ => None,
                    });
            let Some(package) = self.packages.get_mut(&name) else {
                continue;
            };
            let Some((version, files)) = found else {
                let wanted = Variant::Cuda(cuda);
                // A build without a label (from PyPI, or a macOS one) may be what the target
                // gets anyway: PyPI's Linux torch wheels are CUDA builds.
                if Variant::of_version(&installed).is_some() {
                    self.diagnostics.push(
                        Diagnostic::error(
                            VARIANT_MISMATCH,
                            format!(
                                "{} {installed} does not suit the target ({}) and no configured \
                                 index has a {wanted} build of it",
                                package.display_name, self.target
                            ),
                        )
                        .with_hint(format!(
                            "add the index that serves it:\n{}",
                            variant::config_lines(
                                &name,
                                &wanted,
                                &format!("{}{}", variant::PYTORCH_INDEXES, wanted.label())
                            )
                        )),
                    );
                }
                rest.push((name, installed, route));
                continue;
            };
            self.diagnostics.push(
                Diagnostic::warning(
                    VARIANT_SWITCHED,
                    format!(
                        "{} {installed} is installed; the lock holds {version}, the target's \
                         build (CUDA {cuda}), from {}",
                        package.display_name, files.index
                    ),
                )
                .with_hint(
                    "that build's own requirements (CUDA libraries such as nvidia-*-cu12) are \
                     not installed here and so not locked; install them on the target from its \
                     index, or lock from an environment that has that build",
                ),
            );
            package.reason = Reason::SwitchedForTarget {
                installed: installed.clone(),
                index: files.index.clone(),
            };
            package.installed_version = Some(installed);
            package.version = version;
            package.files = Some(files);
        }
        rest
    }

    /// Classifies what the target installs of every verified package; a package it cannot
    /// install is an error saying what exists instead.
    pub(crate) fn check_coverage(&mut self) {
        let priority = TagPriority::new(&self.target);
        let target = self.target.to_string();
        for package in self.packages.values_mut() {
            if package.class != Class::Pypi {
                continue;
            }
            if let (Some(cuda), Some(major)) =
                (self.target.cuda, variant::cuda_major_of_name(&package.name))
                && cuda.major != major
            {
                self.diagnostics.push(
                    Diagnostic::warning(
                        CUDA_MISMATCH,
                        format!(
                            "{} {} is built for CUDA {major}; the target has CUDA {cuda}",
                            package.display_name, package.version
                        ),
                    )
                    .with_hint(format!(
                        "install the -cu{} build of it, or set --target-cuda",
                        cuda.major
                    )),
                );
            }
            let Some(files) = &package.files else {
                continue;
            };
            let compiled = self
                .env
                .distribution(&package.name)
                .is_some_and(|d| d.has_compiled_modules);
            let found = coverage(&files.files, &priority, compiled);
            match &found {
                Coverage::Nothing { instead } => self.diagnostics.push(
                    Diagnostic::error(
                        NO_USABLE_FILE,
                        format!(
                            "{} {} has no file that installs on {target}: {instead}",
                            package.display_name, package.version
                        ),
                    )
                    .with_hint(
                        "lock a version with a wheel for the target, install it in the base \
                         image, or put a marker on the requirement that pulls it in \
                         (`name; sys_platform == \"darwin\"`)",
                    ),
                ),
                Coverage::Sdist {
                    file,
                    build: Build::Unknown,
                } => self.diagnostics.push(
                    Diagnostic::warning(
                        SDIST_ONLY,
                        format!(
                            "{} {} has no wheel for {target}; the target builds {file}, which \
                             may need a compiler",
                            package.display_name, package.version
                        ),
                    )
                    .with_hint("make sure the base image can build it, or lock another version"),
                ),
                Coverage::Wheel { .. } | Coverage::Sdist { .. } => {}
            }
            package.coverage = Some(found);
        }
    }
}
