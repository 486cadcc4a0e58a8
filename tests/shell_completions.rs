//! `envscan completions SHELL` loads in that shell and completes envscan's commands, and
//! `envscan man` renders a man page, all generated from the clap definitions.
//!
//! zsh and fish come from Debian's packages, which `scripts/test` installs only under CI=true
//! (or `--install-system-deps`); elsewhere a missing shell is a skip with a message.

mod support;

use std::process::Command;

use support::envscan;

fn script(shell: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let assert = envscan().args(["completions", shell]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("envscan.{shell}"));
    std::fs::write(&path, &assert.get_output().stdout).unwrap();
    (dir, path)
}

fn run_shell(cmd: &mut Command) -> String {
    let output = support::run(cmd);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn bash_completes_commands_and_graph_formats() {
    let Some(bash) = support::which("bash") else {
        support::skip("no bash on PATH");
        return;
    };
    let (_dir, path) = script("bash");
    // Load the script, then call its function as bash's `complete -F` does for the words
    // typed: COMP_WORDS/COMP_CWORD set, and the command, current and previous word as $1-$3.
    let probe = r#"
source "$1"
complete -p envscan
words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _envscan envscan "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; }
words envscan gr; echo "commands: ${COMPREPLY[*]}"
words envscan graph --format ''; echo "graph: ${COMPREPLY[*]}"
words envscan scan --format ''; echo "scan: ${COMPREPLY[*]}"
"#;
    let out = run_shell(Command::new(bash).args(["-c", probe, "bash"]).arg(&path));
    assert!(out.contains("-F _envscan envscan"), "{out}");
    assert!(out.contains("commands: graph"), "{out}");
    assert!(out.contains("graph: dot mermaid json"), "{out}");
    assert!(out.contains("scan: human json"), "{out}");
}

#[test]
fn zsh_loads_the_completion_function() {
    let Some(zsh) = support::which("zsh") else {
        support::skip("no zsh on PATH (Debian's zsh; scripts/test installs it under CI=true)");
        return;
    };
    let (dir, path) = script("zsh");
    // zsh autoloads `_envscan` from a folder on fpath, as a user's ~/.zfunc.
    std::fs::rename(&path, dir.path().join("_envscan")).unwrap();
    let probe = r#"
fpath=("$1" $fpath)
autoload -Uz compinit && compinit -u -D
autoload -Uz _envscan
whence -w _envscan
echo "registered: ${_comps[envscan]}"
"#;
    let out = run_shell(
        Command::new(zsh)
            .args(["-f", "-c", probe, "zsh"])
            .arg(dir.path()),
    );
    assert!(out.contains("_envscan: function"), "{out}");
    assert!(out.contains("registered: _envscan"), "{out}");
}

#[test]
fn fish_completes_commands_and_graph_formats() {
    let Some(fish) = support::which("fish") else {
        support::skip("no fish on PATH (Debian's fish; scripts/test installs it under CI=true)");
        return;
    };
    let (_dir, path) = script("fish");
    let probe = r#"
source $argv[1]
echo commands:(complete -C 'envscan gr' | string replace -r '\t.*' '')
echo graph:(complete -C 'envscan graph --format ' | string replace -r '\t.*' '')
echo scan:(complete -C 'envscan scan --format ' | string replace -r '\t.*' '')
"#;
    let out = run_shell(
        Command::new(fish)
            .args(["--no-config", "-c", probe])
            .arg(&path),
    );
    assert!(out.contains("commands:graph"), "{out}");
    for format in ["dot", "mermaid", "json"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("graph:") && l.contains(format)),
            "{out}"
        );
    }
    let scan = out
        .lines()
        .find(|l| l.starts_with("scan:"))
        .unwrap_or_default();
    assert!(scan.contains("human") && !scan.contains("mermaid"), "{out}");
}

#[test]
fn man_page_renders_and_names_every_command() {
    let assert = envscan().arg("man").assert().success();
    let page = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(page.contains(".TH envscan 1"), "{page}");
    for command in ["scan", "lock", "check", "plan", "graph", "completions"] {
        assert!(page.contains(command), "{command} missing");
    }
    let dir = tempfile::tempdir().unwrap();
    envscan()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("envscan.1").is_file());
    assert!(dir.path().join("envscan-lock.1").is_file());
    // man itself renders it, where man is installed (not a test dependency otherwise).
    if let Some(man) = support::which("man") {
        let out = Command::new(man)
            .arg("-l")
            .arg(dir.path().join("envscan-lock.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        if out.status.success() {
            assert!(String::from_utf8_lossy(&out.stdout).contains("fail-on-change"));
        }
    }
}
