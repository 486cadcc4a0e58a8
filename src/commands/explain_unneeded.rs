//! `envscan explain NAME` for a distribution that is installed but not needed: what would pull
//! it in, so that a plugin the tests use, or a tool the code runs, is one command away from
//! understood. Each line names one way in: an entry-point group it provides (and the host that
//! loads it, whether that host is needed, and what left it out), the pytest options it
//! registers, the commands it installs, and the installed distributions that require it.

use std::collections::BTreeSet;

use crate::analysis::Analysis;
use crate::classify::pytest_options::Registry;
use crate::env::Distribution;
use crate::names::PackageName;

/// At most this many options or names are listed on one line.
const LIST: usize = 8;

/// What would pull `dist` into the lock.
pub fn would_pull_in(analysis: &Analysis, dist: &Distribution) -> Vec<String> {
    let mut lines = Vec::new();
    let groups: BTreeSet<&str> = dist
        .entry_points
        .iter()
        .map(|e| e.group.as_str())
        .filter(|g| !matches!(*g, "console_scripts" | "gui_scripts"))
        .collect();
    for group in groups {
        let hosts: Vec<&PackageName> = analysis
            .plugin_hosts
            .hosts_of(group)
            .filter(|h| **h != dist.name)
            .collect();
        if hosts.is_empty() {
            lines.push(format!(
                "entry point group {group}, which no known host loads: name the distribution \
                 that loads it in [tool.envscan] entry-point-groups ({{ HOST = [\"{group}\"] }})"
            ));
        }
        for host in hosts {
            let left_out = dist
                .entry_points
                .iter()
                .filter(|e| e.group == group)
                .find_map(|e| analysis.plugins_left_out.why(&dist.name, e));
            lines.push(match (analysis.packages.contains_key(host), left_out) {
                (true, Some(why)) => format!(
                    "entry point group {group}, which {host} loads and {host} is needed, but {why}"
                ),
                (true, None) => format!("entry point group {group}, which {host} loads"),
                (false, _) => format!(
                    "entry point group {group}, which {host} loads, once {host} is needed (it is \
                     not)"
                ),
            });
        }
    }
    if dist.entry_points.iter().any(|e| e.group == "pytest11") {
        let registry = Registry::read(&analysis.env);
        let options = registry.options_of(&dist.name);
        if !options.is_empty() {
            lines.push(format!(
                "an option it registers in pytest's addopts: {}",
                listed(&options)
            ));
        }
    }
    let commands: Vec<&str> = dist
        .entry_points
        .iter()
        .filter(|e| matches!(e.group.as_str(), "console_scripts" | "gui_scripts"))
        .map(|e| e.name.as_str())
        .collect();
    if !commands.is_empty() {
        lines.push(format!(
            "a command it installs ({}), if the project runs one: list {} in [tool.envscan] add",
            listed(&commands),
            dist.name
        ));
    }
    let requirers: Vec<&str> = analysis
        .env
        .distributions
        .iter()
        .filter(|d| {
            d.requires_dist.iter().any(|r| {
                r.parsed()
                    .is_some_and(|p| PackageName::new(p.name.as_ref()) == dist.name)
            })
        })
        .map(|d| d.name.as_str())
        .collect();
    if !requirers.is_empty() {
        lines.push(format!(
            "a needed distribution that requires it; installed ones that do: {}",
            listed(&requirers)
        ));
    }
    lines
}

fn listed(items: &[&str]) -> String {
    let mut text = items
        .iter()
        .take(LIST)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LIST {
        text.push_str(&format!(" and {} more", items.len() - LIST));
    }
    text
}
