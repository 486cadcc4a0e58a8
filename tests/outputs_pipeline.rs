//! What `envscan lock`, `pack`, `plan --dockerfile`, `graph` and `explain` produce for the
//! `lock-project` fixture in a real virtualenv, checked with the tools that consume it: PyYAML
//! and conda-lock's parser for the conda file, the committed JSON Schemas, hadolint for the
//! Dockerfile, graphviz for the dot graph.
//!
//! One virtualenv serves the whole file (making one takes most of the time): it is built once,
//! locked once online (which fills the index cache), and tests that change the project work on
//! fresh copies of the fixture that use the same virtualenv and cache.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use support::{LockFixture, assert_valid, envscan, fixture, run_python, test_env};

struct Locked {
    fx: LockFixture,
    /// `envscan lock --format json` of the first run.
    report: Value,
    /// The virtualenv's Python version, as `platform.python_version()` gives it.
    python_version: String,
}

fn locked() -> Option<&'static Locked> {
    static LOCKED: OnceLock<Option<Locked>> = OnceLock::new();
    LOCKED
        .get_or_init(|| {
            let fx = support::kept_lock_fixture("outputs_pipeline")?;
            let output = lock_cmd(&fx, &fx.project)
                .args(["--format", "json"])
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let report = serde_json::from_slice(&output.stdout).unwrap();
            let version = support::run(
                std::process::Command::new(fx.venv.join("bin/python"))
                    .args(["-c", "import platform; print(platform.python_version())"]),
            );
            Some(Locked {
                report,
                python_version: String::from_utf8(version.stdout).unwrap().trim().into(),
                fx,
            })
        })
        .as_ref()
}

/// `envscan lock PROJECT --python VENV --cache-dir CACHE`.
fn lock_cmd(fx: &LockFixture, project: &Path) -> assert_cmd::Command {
    analysis_cmd("lock", fx, project)
}

fn analysis_cmd(command: &str, fx: &LockFixture, project: &Path) -> assert_cmd::Command {
    let mut cmd = envscan();
    cmd.arg(command)
        .arg(project)
        .arg("--python")
        .arg(&fx.venv)
        .arg("--cache-dir")
        .arg(&fx.cache);
    cmd
}

/// A fresh copy of the fixture project, in a folder also called `project` so that the conda
/// file's `name` (the folder's name) is the same as the shared one's.
fn project_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    support::copy_tree(&fixture("lock-project"), &project);
    (dir, project)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn plan_of(project: &Path) -> Value {
    serde_json::from_str(&read(&project.join("envscan.plan.json"))).unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `name==version` of every pypi-class package in a lock report.
fn pypi_pins(report: &Value) -> Vec<String> {
    let mut pins: Vec<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["class"] == "pypi")
        .map(|p| {
            format!(
                "{}=={}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    pins.sort();
    pins
}

// ---------------------------------------------------------------- conda file

/// Loads a conda file with PyYAML and checks it the way `conda env create` reads it: only its
/// keys, each of the right type, `pip` before the `pip:` mapping. Prints what it found as JSON.
const CONDA_SHAPE: &str = r#"
import json, sys, yaml
data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
assert isinstance(data, dict), data
extra = set(data) - {"name", "channels", "dependencies", "variables", "prefix"}
assert not extra, f"keys conda does not read: {extra}"
assert isinstance(data["name"], str), data["name"]
assert isinstance(data["channels"], list) and data["channels"], data["channels"]
assert all(isinstance(c, str) for c in data["channels"]), data["channels"]
deps = data["dependencies"]
assert isinstance(deps, list), deps
maps = [i for i, d in enumerate(deps) if not isinstance(d, str)]
assert len(maps) <= 1, f"more than one mapping in dependencies: {deps}"
pip = []
for i in maps:
    assert isinstance(deps[i], dict) and list(deps[i]) == ["pip"], deps[i]
    pip = deps[i]["pip"]
    assert isinstance(pip, list) and all(isinstance(p, str) for p in pip), pip
    assert "pip" in deps[:i], "pip must be listed before the pip: mapping"
if "variables" in data:
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in data["variables"].items())
print(json.dumps({
    "name": data["name"],
    "channels": data["channels"],
    "conda": [d for d in deps if isinstance(d, str)],
    "pip": pip,
}))
"#;

fn conda_shape(env: &Path, file: &Path) -> Value {
    serde_json::from_str(&run_python(env, CONDA_SHAPE, &[file.as_os_str()])).unwrap()
}

#[test]
fn conda_file_has_conda_keys_the_exact_python_and_every_pypi_package_pinned() {
    let (Some(env), Some(l)) = (test_env(), locked()) else {
        return;
    };
    let shape = conda_shape(&env, &l.fx.project.join("envscan.conda.yaml"));
    assert_eq!(shape["name"], "project");
    assert_eq!(shape["channels"], serde_json::json!(["conda-forge"]));
    assert_eq!(
        shape["conda"],
        serde_json::json!([format!("python=={}", l.python_version), "pip"])
    );
    let mut pip: Vec<String> = serde_json::from_value(shape["pip"].clone()).unwrap();
    pip.sort();
    assert_eq!(pip, pypi_pins(&l.report));
    // Every package of the lock itself, too.
    let lock: toml::Table =
        toml::from_str(&read(&l.fx.project.join("pylock.envscan.toml"))).unwrap();
    let mut locked: Vec<String> = lock["packages"]
        .as_array()
        .unwrap()
        .iter()
        // A local wheel (an `archive`) is the lock's alone: the conda file's pip list pins index
        // packages.
        .filter(|p| p.get("archive").is_none())
        .map(|p| {
            format!(
                "{}=={}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    locked.sort();
    assert_eq!(pip, locked);
    for expected in ["requests==2.32.3", "pyyaml==6.0.3"] {
        assert!(
            pip.iter().any(|p| p == expected),
            "{expected} not in {pip:?}"
        );
    }
    assert!(
        !pip.iter().any(|p| p.starts_with("localutils")),
        "local code must not be a pip requirement: {pip:?}"
    );
}

/// Parses a variant of a conda file without index lines with conda-lock's own parser and
/// prints what it read, as `manager:name[:version]` lines.
const CONDA_LOCK_PARSE: &str = r#"
import pathlib, sys, yaml
from conda_lock.src_parser.environment_yaml import parse_environment_file
source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
data = yaml.safe_load(source.read_text(encoding="utf-8"))
for dep in data["dependencies"]:
    if isinstance(dep, dict):
        dep["pip"] = [line for line in dep["pip"] if not line.startswith("--")]
variant = out / "environment.yml"
variant.write_text(yaml.safe_dump(data), encoding="utf-8")
# An empty PyPI-to-conda name mapping: the default one is downloaded, and the test is offline.
mapping = out / "mapping.json"
mapping.write_text("{}", encoding="utf-8")
spec = parse_environment_file(variant, ["linux-64"], mapping_url=str(mapping))
found = set()
for dep in spec.dependencies["linux-64"]:
    version = dep.version if dep.version not in ("", "*") else None
    found.add(":".join([dep.manager, dep.name] + ([version] if version else [])))
print("\n".join(sorted(found)))
"#;

#[test]
fn conda_lock_reads_every_package_of_the_conda_file() {
    let (Some(env), Some(l)) = (test_env(), locked()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let conda = l.fx.project.join("envscan.conda.yaml");
    let parsed = run_python(
        &env,
        CONDA_LOCK_PARSE,
        &[conda.as_os_str(), out.path().as_os_str()],
    );
    let found: Vec<&str> = parsed.lines().collect();
    let mut expected = vec![
        format!("conda:python:{}", l.python_version),
        "conda:pip".to_string(),
    ];
    expected.extend(pypi_pins(&l.report).iter().map(|pin| {
        let (name, version) = pin.split_once("==").unwrap();
        format!("pip:{name}:=={version}")
    }));
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn a_non_default_index_goes_into_the_conda_file_without_its_credentials() {
    let Some(l) = locked() else { return };
    let (_dir, project) = project_copy();
    // Offline: the packages verify from the cache the first lock filled (on the default
    // index, which stays first); the extra index is only written down.
    let output = lock_cmd(&l.fx, &project)
        .args([
            "--offline",
            "--extra-index-url",
            "https://user:secret@example.invalid/simple",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let conda = read(&project.join("envscan.conda.yaml"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&conda).unwrap();
    let pip = doc["dependencies"]
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|d| d.get("pip"))
        .and_then(|p| p.as_sequence())
        .unwrap();
    assert_eq!(
        pip[0].as_str(),
        Some("--extra-index-url https://example.invalid/simple/"),
        "{conda}"
    );
    for file in [
        "envscan.conda.yaml",
        "envscan.plan.json",
        "pylock.envscan.toml",
    ] {
        let text = read(&project.join(file));
        assert!(
            !text.contains("secret") && !text.contains("user:"),
            "{file} leaks the credentials:\n{text}"
        );
    }
    if let Some(env) = test_env() {
        let shape = conda_shape(&env, &project.join("envscan.conda.yaml"));
        assert_eq!(shape["pip"].as_array().unwrap().len(), pip.len());
    }
}

// ---------------------------------------------------------------- lock report

#[test]
fn lock_json_matches_its_schema_and_says_why_each_package_is_there() {
    let Some(l) = locked() else { return };
    let report = &l.report;
    assert_valid("lock.schema.json", report);
    assert_eq!(report["lock"], "pylock.envscan.toml");
    assert_eq!(report["python"], l.python_version.as_str());
    let packages = report["packages"].as_array().unwrap();
    for package in packages {
        for key in [
            "name",
            "version",
            "class",
            "reason",
            "imported_as",
            "required_by",
        ] {
            assert!(package.get(key).is_some(), "{key} missing in {package}");
        }
    }
    let find = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {packages:#?}"))
    };
    assert_eq!(
        find("requests")["imported_as"],
        serde_json::json!(["requests"])
    );
    assert_eq!(find("pyyaml")["imported_as"], serde_json::json!(["yaml"]));
    assert_eq!(find("pyyaml")["class"], "pypi");
    assert_eq!(find("localutils")["class"], "local");
    let urllib3 = find("urllib3");
    assert_eq!(urllib3["imported_as"], serde_json::json!([]));
    assert_eq!(urllib3["required_by"][0]["name"], "requests");
    assert!(
        !packages
            .iter()
            .any(|p| p["name"] == "pandas" || p["name"] == "orjson"),
        "type-checking-only and missing optional imports must not be locked"
    );
    let unresolved = report["unresolved"].as_array().unwrap();
    assert_eq!(unresolved.len(), 1, "{unresolved:#?}");
    assert_eq!(unresolved[0]["module"], "orjson");
    assert_eq!(unresolved[0]["guarded"], true);
}

// ---------------------------------------------------------------- build plan

#[test]
fn plan_matches_its_schema_and_lists_the_steps_in_build_order() {
    let Some(l) = locked() else { return };
    let plan = plan_of(&l.fx.project);
    assert_valid("build-plan.schema.json", &plan);
    assert_eq!(plan["schema_version"], 1);
    assert!(
        plan["base_image"]
            .as_str()
            .unwrap()
            .starts_with("condaforge/miniforge3:"),
        "the default base image must have conda: {}",
        plan["base_image"]
    );
    assert_eq!(plan["python"], l.python_version.as_str());
    let key = plan["cache_key"].as_str().unwrap();
    assert!(
        key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "{key}"
    );
    let steps = plan["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "create_env",
            "install_lock",
            "unpack",
            "set_env",
            "workdir",
            "entrypoint"
        ]
    );
    assert_eq!(steps[0]["file"], "envscan.conda.yaml");
    assert_eq!(steps[1]["file"], "pylock.envscan.toml");
    assert_eq!(steps[2]["source"], "project");
    // localutils (an editable install) is no archive on PYTHONPATH: the lock installs its wheel.
    let python_path: Vec<&str> = steps[3]["variables"]["PYTHONPATH"]
        .as_str()
        .unwrap()
        .split(':')
        .collect();
    let project_dest = steps[2]["destination"].as_str().unwrap();
    // src/ layout: the project's import root is its src folder; main.py sits at the top.
    assert!(
        python_path.contains(&format!("{project_dest}/src").as_str()),
        "{python_path:?}"
    );
    assert_eq!(steps[4]["path"], project_dest);
    assert_eq!(
        steps[5]["command"],
        serde_json::json!(["python", "main.py"])
    );
    let sources: Vec<(&str, &str)> = plan["local_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["path"].as_str().unwrap()))
        .collect();
    assert_eq!(sources, [("project", ".")]);
    assert_eq!(plan["warnings"], serde_json::json!([]));
}

#[test]
fn base_image_comes_from_the_flag_then_pyproject_then_the_default() {
    let Some(l) = locked() else { return };
    let default_plan = plan_of(&l.fx.project);

    let (_dir, project) = project_copy();
    let pyproject = project.join("pyproject.toml");
    let text = read(&pyproject).replace(
        "[tool.envscan]\n",
        "[tool.envscan]\nbase-image = \"registry.example/conda-cuda:12.4\"\n",
    );
    std::fs::write(&pyproject, text).unwrap();
    lock_cmd(&l.fx, &project)
        .arg("--offline")
        .assert()
        .success();
    let from_pyproject = plan_of(&project);
    assert_eq!(
        from_pyproject["base_image"],
        "registry.example/conda-cuda:12.4"
    );

    lock_cmd(&l.fx, &project)
        .args(["--offline", "--base-image", "mine/with-gdal:1"])
        .assert()
        .success();
    let from_flag = plan_of(&project);
    assert_eq!(from_flag["base_image"], "mine/with-gdal:1");

    // The image is part of what an environment is built from.
    let keys = [&default_plan, &from_pyproject, &from_flag].map(|p| p["cache_key"].clone());
    assert!(
        keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2],
        "{keys:?}"
    );
}

#[test]
fn cache_key_stays_when_only_code_changes_and_follows_the_lock() {
    let Some(l) = locked() else { return };
    let key = |project: &Path| plan_of(project)["cache_key"].as_str().unwrap().to_string();
    let original = key(&l.fx.project);

    // Another run, elsewhere: same key.
    let (_a, same) = project_copy();
    lock_cmd(&l.fx, &same).arg("--offline").assert().success();
    assert_eq!(key(&same), original);

    // Code edits that move import lines and change bodies: same environment, same key.
    let (_b, edited) = project_copy();
    let core = edited.join("src/app/core.py");
    std::fs::write(&core, format!("# moved down a line\n{}", read(&core))).unwrap();
    std::fs::write(
        edited.join("src/app/formatting.py"),
        "def wrap(text: str) -> str:\n    return f\"<{text}>\"\n",
    )
    .unwrap();
    lock_cmd(&l.fx, &edited).arg("--offline").assert().success();
    assert_ne!(
        read(&edited.join("pylock.envscan.toml")),
        read(&l.fx.project.join("pylock.envscan.toml")),
        "the lock records import locations, so it should differ here"
    );
    assert_eq!(
        key(&edited),
        original,
        "a code edit must not change the cache key"
    );

    // Dropping a dependency changes the lock's packages: new key.
    let (_c, fewer) = project_copy();
    let main = fewer.join("main.py");
    std::fs::write(&main, read(&main).replace("import yaml\n", "")).unwrap();
    lock_cmd(&l.fx, &fewer).arg("--offline").assert().success();
    assert!(!read(&fewer.join("pylock.envscan.toml")).contains("name = \"pyyaml\""));
    assert_ne!(key(&fewer), original);
}

// ---------------------------------------------------------------- Dockerfile

#[test]
fn dockerfile_follows_the_plan_and_passes_hadolint() {
    let Some(l) = locked() else { return };
    let archives = tempfile::tempdir().unwrap();
    analysis_cmd("pack", &l.fx, &l.fx.project)
        .args(["--offline", "--out"])
        .arg(archives.path())
        .assert()
        .success();
    let manifest_path = archives.path().join("manifest.json");
    let manifest: Value = serde_json::from_str(&read(&manifest_path)).unwrap();
    let output = envscan()
        .arg("plan")
        .arg(l.fx.project.join("envscan.plan.json"))
        .arg("--dockerfile")
        .arg("--manifest")
        .arg(&manifest_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let dockerfile = stdout(&output);
    let plan = plan_of(&l.fx.project);

    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(
        instructions[0],
        format!("FROM {}", plan["base_image"].as_str().unwrap()),
        "{dockerfile}"
    );
    // Each expected instruction, found in this order.
    let position = |what: &dyn Fn(&str) -> bool, label: &str| {
        instructions
            .iter()
            .position(|line| what(line))
            .unwrap_or_else(|| panic!("no {label} in\n{dockerfile}"))
    };
    // The environment is created from the plan's conda specs; the conda file (whose `pip:`
    // list would install every PyPI package a first time, unhashed) is not copied in.
    let specs: String = plan["steps"][0]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!(" '{}'", d.as_str().unwrap()))
        .collect();
    assert!(
        specs.contains("'python==") && specs.ends_with(" 'pip'"),
        "{specs}"
    );
    let create = position(
        &|l| {
            l.starts_with("RUN conda create --yes --quiet --name ")
                && l.contains(" --override-channels -c conda-forge ")
                && l.contains(&format!("{specs} && conda clean"))
        },
        "conda create from the plan's specs",
    );
    assert!(
        !dockerfile.contains("envscan.conda.yaml"),
        "the conda file is not used to build the image:\n{dockerfile}"
    );
    // Each PyPI package is installed once, by the lock (hashed): no instruction names one.
    let pins = pypi_pins(&l.report);
    assert!(!pins.is_empty());
    for pin in &pins {
        let name = pin.split("==").next().unwrap();
        assert!(
            !instructions.iter().any(|l| l.contains(pin.as_str())
                || l.contains(&format!("'{name}"))
                || l.contains(&format!(" {name} "))),
            "{pin} is installed outside the lock:\n{dockerfile}"
        );
    }
    let copy_lock = position(
        &|l| l.starts_with("COPY pylock.envscan.toml "),
        "COPY of the lock",
    );
    let install = position(
        &|l| {
            l.starts_with("RUN ")
                && l.contains("uv pip install --compile-bytecode ")
                && l.contains("pylock.envscan.toml")
        },
        "uv install of the lock, compiled to bytecode",
    );
    let mut adds = Vec::new();
    for entry in manifest["archives"].as_array().unwrap() {
        let line = format!(
            "ADD archives/{} {}/",
            entry["archive"].as_str().unwrap(),
            entry["destination"].as_str().unwrap()
        );
        adds.push(position(&|l| l == line, &line));
    }
    assert_eq!(adds.len(), 1);
    // The lock's local wheel is copied where the lock names it, before the install.
    let wheel = manifest["wheels"][0]["wheel"].as_str().unwrap();
    let copy_wheel = position(
        &|l| l == format!("COPY archives/{wheel} /tmp/envscan/envscan-archives/{wheel}"),
        "COPY of the local wheel",
    );
    let python_path = plan["steps"][3]["variables"]["PYTHONPATH"]
        .as_str()
        .unwrap();
    let env = position(
        &|l| l == format!("ENV PYTHONPATH=\"{python_path}\""),
        "ENV PYTHONPATH",
    );
    let workdir = position(&|l| l == "WORKDIR /app", "WORKDIR");
    let entrypoint = position(&|l| l.starts_with("ENTRYPOINT "), "ENTRYPOINT");
    let order = [
        create, copy_lock, copy_wheel, install, adds[0], env, workdir, entrypoint,
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{order:?}\n{dockerfile}"
    );
    let command: Value =
        serde_json::from_str(instructions[entrypoint].trim_start_matches("ENTRYPOINT ")).unwrap();
    assert_eq!(command, serde_json::json!(["python", "main.py"]));

    let Some(env) = test_env() else { return };
    let file = archives.path().join("Dockerfile");
    std::fs::write(&file, &dockerfile).unwrap();
    // No rule is ignored: the Dockerfile should be clean, warnings included.
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

// ---------------------------------------------------------------- graph

fn graph(l: &Locked, args: &[&str]) -> std::process::Output {
    analysis_cmd("graph", &l.fx, &l.fx.project)
        .args(args)
        .output()
        .unwrap()
}

fn graph_json(l: &Locked, args: &[&str]) -> Value {
    let output = graph(l, &[&["--format", "json"], args].concat());
    assert!(output.status.success(), "{output:?}");
    let view: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid("graph.schema.json", &view);
    view
}

fn node_names(view: &Value) -> Vec<&str> {
    view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

/// The edge between two named nodes.
fn edge<'a>(view: &'a Value, from: &str, to: &str) -> &'a Value {
    let id = |name: &str| {
        view["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node {name}"))["id"]
            .clone()
    };
    let (from_id, to_id) = (id(from), id(to));
    view["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == from_id && e["to"] == to_id)
        .unwrap_or_else(|| panic!("no edge {from} -> {to}"))
}

#[test]
fn graph_json_matches_its_schema_and_hides_the_stdlib_unless_asked() {
    let Some(l) = locked() else { return };
    let view = graph_json(l, &[]);
    let names = node_names(&view);
    for name in [
        "main",
        "app.core",
        "app.formatting",
        "requests",
        "yaml",
        "localutils.text",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(
        !names.contains(&"typing"),
        "stdlib shown by default: {names:?}"
    );
    let yaml = view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "yaml")
        .unwrap();
    assert_eq!(yaml["distribution"], "pyyaml");

    let with_stdlib = graph_json(l, &["--stdlib"]);
    let typing = with_stdlib["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "typing")
        .expect("typing shown with --stdlib");
    assert_eq!(typing["kind"], "stdlib");
}

#[test]
fn graph_edges_carry_the_import_context_when_it_is_not_plain() {
    let Some(l) = locked() else { return };
    let view = graph_json(l, &[]);
    assert_eq!(
        edge(&view, "app.core", "orjson")["context"],
        serde_json::json!(["function", "optional"])
    );
    assert_eq!(
        edge(&view, "app.core", "pandas")["context"],
        serde_json::json!(["type_checking"])
    );
    let plain = edge(&view, "main", "requests");
    assert_eq!(plain["context"], serde_json::json!([]));
    assert_eq!(plain["first"], "main.py:2");

    let output = graph(l, &[]);
    assert!(output.status.success(), "{output:?}");
    let dot = stdout(&output);
    let ids = |name: &str| {
        view["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let optional = format!(
        "n{} -> n{} [label=\"function, optional\"",
        ids("app.core"),
        ids("orjson")
    );
    assert!(dot.contains(&optional), "{optional} not in\n{dot}");
    let plain = format!("n{} -> n{};\n", ids("main"), ids("requests"));
    assert!(dot.contains(&plain), "{plain} not in\n{dot}");
}

#[test]
fn graph_dot_clusters_modules_by_distribution_and_renders_with_graphviz() {
    let Some(l) = locked() else { return };
    let output = graph(l, &["--format", "dot"]);
    assert!(output.status.success(), "{output:?}");
    let dot = stdout(&output);
    assert_eq!(dot, stdout(&graph(l, &[])), "dot is the default format");
    // The cluster labelled pyyaml holds the yaml module.
    let cluster = dot
        .split("subgraph ")
        .find(|block| block.contains("label=\"pyyaml\";"))
        .unwrap_or_else(|| panic!("no pyyaml cluster in\n{dot}"));
    let cluster = &cluster[..cluster.find('}').unwrap()];
    assert!(cluster.contains("[label=\"yaml\"]"), "{cluster}");

    let Some(dot_bin) = support::which("dot") else {
        support::skip("graphviz is not installed (scripts/test installs it)");
        return;
    };
    let mut child = std::process::Command::new(dot_bin)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), dot.as_bytes()).unwrap();
    let rendered = child.wait_with_output().unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    assert!(
        rendered.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let svg = String::from_utf8(rendered.stdout).unwrap();
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(
        svg.contains(">pyyaml</text>") && svg.contains(">yaml</text>"),
        "{svg}"
    );
}

#[test]
fn graph_mermaid_is_a_flowchart_with_a_subgraph_per_distribution() {
    let Some(l) = locked() else { return };
    let output = graph(l, &["--format", "mermaid"]);
    assert!(output.status.success(), "{output:?}");
    let mermaid = stdout(&output);
    assert!(mermaid.starts_with("flowchart "), "{mermaid}");
    assert!(mermaid.contains("[\"pyyaml\"]\n"), "{mermaid}");
    assert!(
        mermaid.contains("-.->|\"function, optional\"|"),
        "{mermaid}"
    );
}

#[test]
fn graph_focus_keeps_only_the_chains_that_reach_it() {
    let Some(l) = locked() else { return };
    let view = graph_json(l, &["--focus", "requests"]);
    assert_eq!(node_names(&view), ["main", "requests"]);
    assert_eq!(view["edges"].as_array().unwrap().len(), 1);

    // By distribution name: pyyaml reaches the yaml module.
    let view = graph_json(l, &["--focus", "PyYAML"]);
    assert_eq!(node_names(&view), ["main", "yaml"]);

    let output = graph(l, &["--focus", "nosuchthing"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`nosuchthing` is neither a module nor a distribution"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- explain

/// `envscan explain NAME` offline (the shared lock filled the cache), human and JSON; the
/// JSON is checked against its schema.
fn explain(l: &Locked, name: &str) -> (String, Value) {
    let run = |json: bool| {
        let mut cmd = envscan();
        cmd.args(["explain", name])
            .arg(&l.fx.project)
            .arg("--python")
            .arg(&l.fx.venv)
            .arg("--cache-dir")
            .arg(&l.fx.cache)
            .arg("--offline");
        if json {
            cmd.args(["--format", "json"]);
        }
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        stdout(&output)
    };
    let json: Value = serde_json::from_str(&run(true)).unwrap();
    assert_valid("explain.schema.json", &json);
    (run(false), json)
}

#[test]
fn explain_a_transitive_package_shows_the_requirement_chain_and_its_class() {
    let Some(l) = locked() else { return };
    let (human, json) = explain(l, "urllib3");
    assert!(human.starts_with("urllib3 "), "{human}");
    assert!(human.contains("in the lock"), "{human}");
    assert!(
        human.contains("class pypi: installed from an index"),
        "{human}"
    );
    assert!(
        human.contains("requests 2.32.3 requires urllib3"),
        "{human}"
    );
    assert_eq!(json["found_as"], "distribution");
    assert_eq!(json["class"], "pypi");
    let chains = json["requirement_chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(
        chains[0][0]
            .as_str()
            .unwrap()
            .starts_with("requests 2.32.3 requires urllib3")
    );
    assert_eq!(json["import_chains"], serde_json::json!([]));
}

#[test]
fn explain_a_module_names_its_distribution_and_the_importing_line() {
    let Some(l) = locked() else { return };
    let (human, json) = explain(l, "yaml");
    assert!(human.starts_with("pyyaml 6.0.3: in the lock"), "{human}");
    assert!(human.contains("main.py:3 imports yaml"), "{human}");
    assert_eq!(json["found_as"], "module");
    assert_eq!(json["distribution"], "pyyaml");
    assert_eq!(
        json["import_chains"],
        serde_json::json!([[{"file": "main.py", "line": 3, "imports": "yaml"}]])
    );
}

#[test]
fn explain_says_why_a_type_checking_or_missing_import_is_not_locked() {
    let Some(l) = locked() else { return };
    let (human, json) = explain(l, "pandas");
    assert!(
        human.contains("imported only under TYPE_CHECKING"),
        "{human}"
    );
    assert!(
        human.contains("src/app/core.py:6 imports pandas"),
        "{human}"
    );
    assert_eq!(json["found_as"], "module");

    let (human, json) = explain(l, "orjson");
    assert!(human.contains("not installed"), "{human}");
    assert!(
        human.contains("src/app/core.py:11 imports orjson"),
        "{human}"
    );
    assert_eq!(json["class"], "unresolved");
}

// ---------------------------------------------------------------- pre-commit

/// The `entry` of a hook in `.pre-commit-hooks.yaml`, without the program name.
fn hook_args(id: &str) -> Vec<String> {
    let hooks: Vec<serde_yaml::Value> =
        serde_yaml::from_str(&read(&support::repo().join(".pre-commit-hooks.yaml"))).unwrap();
    let hook = hooks
        .iter()
        .find(|h| h["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no hook {id}"));
    let words: Vec<String> = hook["entry"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(words[0], "envscan");
    words[1..].to_vec()
}

/// Runs a hook's entry in `project` as pre-commit would there, with the `args:` a user's
/// `.pre-commit-config.yaml` adds (the interpreter and, for the test, the cache).
fn run_hook(l: &Locked, id: &str, project: &Path) -> std::process::Output {
    envscan()
        .current_dir(project)
        .args(hook_args(id))
        .arg("--python")
        .arg(&l.fx.venv)
        .arg("--cache-dir")
        .arg(&l.fx.cache)
        .arg("--offline")
        .output()
        .unwrap()
}

#[test]
fn the_lock_hook_fails_when_it_rewrote_an_output_and_the_check_hook_writes_nothing() {
    let Some(l) = locked() else { return };
    let (_dir, project) = project_copy();
    let status = |output: std::process::Output| output.status.code();

    // First run writes the three outputs: fail, as a formatter does, so the user stages them.
    assert_eq!(status(run_hook(l, "envscan-lock", &project)), Some(1));
    assert!(project.join("pylock.envscan.toml").is_file());
    assert_eq!(status(run_hook(l, "envscan-lock", &project)), Some(0));
    assert_eq!(status(run_hook(l, "envscan-check", &project)), Some(0));

    let main = project.join("main.py");
    std::fs::write(&main, read(&main).replace("import yaml\n", "")).unwrap();
    let before = read(&project.join("pylock.envscan.toml"));
    let check = run_hook(l, "envscan-check", &project);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("-name = \"pyyaml\""), "{check:?}");
    assert_eq!(
        read(&project.join("pylock.envscan.toml")),
        before,
        "check wrote"
    );

    assert_eq!(status(run_hook(l, "envscan-lock", &project)), Some(1));
    assert_eq!(status(run_hook(l, "envscan-lock", &project)), Some(0));
    assert_eq!(status(run_hook(l, "envscan-check", &project)), Some(0));
}

#[test]
fn fail_on_change_and_check_cannot_be_combined() {
    let output = envscan()
        .args(["lock", "--check", "--fail-on-change"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
