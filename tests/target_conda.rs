//! conda environments rebuilt on a CUDA target get the pin that makes conda choose the GPU
//! build: `pytorch-cuda==X.Y` with the `pytorch` and `nvidia` channels for PyTorch's channel,
//! `cuda-version==X.Y` for conda-forge. The conda file is read back with conda-lock's parser.

mod support;

use std::path::Path;

/// conda-lock's reading of a conda file's conda dependencies, as `name:version` lines.
const CONDA_LOCK_PARSE: &str = r#"
import pathlib, sys
from conda_lock.src_parser.environment_yaml import parse_environment_file
out = pathlib.Path(sys.argv[2])
mapping = out / "mapping.json"
mapping.write_text("{}", encoding="utf-8")
spec = parse_environment_file(pathlib.Path(sys.argv[1]), ["linux-64"], mapping_url=str(mapping))
print("\n".join(sorted(f"{d.name}:{d.version}" for d in spec.dependencies["linux-64"])))
print("channels:" + ",".join(c.url for c in spec.channels))
"#;

fn lock(prefix: &Path, cuda: Option<&str>) -> (serde_yaml::Value, serde_json::Value) {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("main.py"), "import torch\n").unwrap();
    let mut cmd = support::envscan();
    cmd.arg("lock")
        .arg(project.path())
        .arg("--python")
        .arg(prefix)
        .arg("--offline")
        .arg("--cache-dir")
        .arg(project.path().join("cache"))
        .arg("-q");
    if let Some(cuda) = cuda {
        cmd.args(["--target-cuda", cuda]);
    }
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let conda = std::fs::read_to_string(project.path().join("envscan.conda.yaml")).unwrap();
    let plan = std::fs::read_to_string(project.path().join("envscan.plan.json")).unwrap();
    if let Some(env) = support::test_env() {
        let out = tempfile::tempdir().unwrap();
        let file = project.path().join("envscan.conda.yaml");
        let parsed = support::run_python(
            &env,
            CONDA_LOCK_PARSE,
            &[file.as_os_str(), out.path().as_os_str()],
        );
        // conda-lock reads the same pins envscan wrote.
        let yaml: serde_yaml::Value = serde_yaml::from_str(&conda).unwrap();
        for spec in yaml["dependencies"].as_sequence().unwrap() {
            if let Some((name, version)) = spec.as_str().and_then(|s| s.split_once("==")) {
                assert!(
                    parsed.lines().any(|l| l == format!("{name}:{version}")),
                    "{name}=={version} not read by conda-lock: {parsed}"
                );
            }
        }
    }
    (
        serde_yaml::from_str(&conda).unwrap(),
        serde_json::from_str(&plan).unwrap(),
    )
}

fn strings(value: &serde_yaml::Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[test]
fn pytorch_from_its_channel_gets_pytorch_cuda_and_the_nvidia_channel_on_a_cuda_target() {
    let (conda, plan) = lock(&support::fixture("conda-pytorch-cpu"), Some("12.4"));
    assert_eq!(strings(&conda["channels"]), ["pytorch", "nvidia"]);
    let dependencies = strings(&conda["dependencies"]);
    assert!(
        dependencies.contains(&"pytorch==2.5.1".to_string()),
        "{dependencies:?}"
    );
    assert!(
        dependencies.contains(&"pytorch-cuda==12.4".to_string()),
        "{dependencies:?}"
    );
    assert!(!dependencies.iter().any(|d| d.starts_with("cpuonly")));
    // The plan creates the environment from the same specs and channels.
    let create = &plan["steps"][0];
    assert_eq!(create["kind"], "create_env");
    assert_eq!(create["channels"], serde_json::json!(["pytorch", "nvidia"]));
    assert!(
        create["dependencies"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("pytorch-cuda==12.4"))
    );
}

#[test]
fn pytorch_from_conda_forge_gets_cuda_version_and_no_cuda_target_gets_no_pin() {
    let prefix = support::copy_fixture("conda-pytorch-cpu");
    let record = prefix
        .path()
        .join("conda-meta/pytorch-2.5.1-py3.11_cpu_0.json");
    let text = std::fs::read_to_string(&record).unwrap().replace(
        "conda.anaconda.org/pytorch/",
        "conda.anaconda.org/conda-forge/",
    );
    std::fs::write(&record, text).unwrap();
    let (conda, _) = lock(prefix.path(), Some("12.6"));
    assert_eq!(strings(&conda["channels"]), ["conda-forge"]);
    let dependencies = strings(&conda["dependencies"]);
    assert!(
        dependencies.contains(&"cuda-version==12.6".to_string()),
        "{dependencies:?}"
    );
    assert!(!dependencies.iter().any(|d| d.starts_with("pytorch-cuda")));

    let (conda, _) = lock(&support::fixture("conda-pytorch-cpu"), None);
    let dependencies = strings(&conda["dependencies"]);
    assert!(
        !dependencies
            .iter()
            .any(|d| d.starts_with("pytorch-cuda") || d.starts_with("cuda-version")),
        "{dependencies:?}"
    );
    assert_eq!(strings(&conda["channels"]), ["pytorch"]);
}
