//! GPU builds against a PyTorch-style variant index on 127.0.0.1 (tests/data/variant_index.py)
//! and real venvs installed from it: a `+cpu` torch locked as the `+cu124` build a CUDA 12.4
//! target needs (uv installs the very file envscan recorded), a `+cu124` torch without its
//! index (the config lines to add, then the lock with them), and a mismatch no index resolves.

mod support;
mod target_support;

use target_support::{VariantIndex, codes, envscan_json, lock_packages, package, project};

fn config(index: &VariantIndex, rest: &str) -> String {
    format!(
        "[tool.envscan]\nindex-url = \"{}\"\n{rest}",
        index.index("pypi")
    )
}

#[test]
fn a_cpu_torch_is_locked_as_the_cuda_build_the_target_needs_and_uv_installs_that_file() {
    let Some((index, dir, venv)) = target_support::index_and_venv(&[("cpu", "torch==2.5.1+cpu")])
    else {
        return;
    };
    // The named index carries credentials, which must reach no output.
    let cu124 = index
        .index("cu124")
        .replace("http://", "http://bob:s3cret@");
    let project = project(
        dir.path(),
        &["torch"],
        &config(
            &index,
            &format!(
                "target = {{ platform = \"linux-x86_64\", cuda = \"12.4\" }}\n\n\
                 [[tool.envscan.index]]\nname = \"pytorch-cu124\"\nurl = \"{cu124}\"\nexplicit = true\n\n\
                 [tool.envscan.sources]\ntorch = \"pytorch-cu124\"\n"
            ),
        ),
    );
    let (code, report, stderr) = envscan_json("lock", &project, &venv, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let torch = package(&report, "torch").unwrap();
    assert_eq!(torch["version"], "2.5.1+cu124");
    assert_eq!(torch["installed_version"], "2.5.1+cpu");
    assert_eq!(
        torch["target"]["file"],
        "torch-2.5.1+cu124-cp311-cp311-manylinux_2_28_x86_64.whl"
    );
    assert!(codes(&report).contains(&"target-variant-switched".to_string()));
    assert_eq!(report["target"], "manylinux_2_28_x86_64 cp311 cuda12.4");

    let lock = project.join("pylock.envscan.toml");
    let locked = lock_packages(&lock);
    let (version, lock_index, wheels) = &locked["torch"];
    assert_eq!(version, "2.5.1+cu124");
    assert_eq!(lock_index, index.index("cu124").trim_end_matches('/'));
    assert!(wheels.iter().all(|w| w.contains("+cu124")), "{wheels:?}");

    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("envscan.plan.json")).unwrap())
            .unwrap();
    support::assert_valid("build-plan.schema.json", &plan);
    let install = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "install_lock")
        .unwrap();
    assert_eq!(
        install["indexes"],
        serde_json::json!([index.index("cu124")])
    );
    for file in [
        "pylock.envscan.toml",
        "envscan.plan.json",
        "envscan.conda.yaml",
    ] {
        let text = std::fs::read_to_string(project.join(file)).unwrap();
        assert!(!text.contains("s3cret"), "{file} holds the password");
    }
    assert!(!stderr.contains("s3cret") && !report.to_string().contains("s3cret"));

    // uv (from PyPI) accepts the lock for that platform and installs the same wheel.
    let picks = index.uv_picks(&lock, "x86_64-manylinux_2_28", "14.0");
    assert_eq!(
        picks["torch-2.5.1+cu124"],
        ["cp311-cp311-manylinux_2_28_x86_64"]
    );
}

#[test]
fn a_cuda_build_without_its_index_gets_the_lines_to_add_and_with_them_is_locked() {
    let Some((index, dir, venv)) =
        target_support::index_and_venv(&[("cu124", "torch==2.5.1+cu124")])
    else {
        return;
    };
    let project = project(dir.path(), &["torch"], &config(&index, ""));
    let (_, report, stderr) = envscan_json("lock", &project, &venv, &[]);
    let torch = package(&report, "torch").unwrap();
    // Not "binary_local ... travels as nothing": a GPU build whose index is missing.
    assert_eq!(torch["class"], "pypi", "{report:#}");
    assert!(!codes(&report).contains(&"not-on-index".to_string()));
    let missing = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "variant-index-missing")
        .unwrap_or_else(|| panic!("{report:#}\n{stderr}"));
    let hint = missing["hint"].as_str().unwrap();
    assert!(
        hint.contains("url = \"https://download.pytorch.org/whl/cu124\""),
        "{hint}"
    );
    assert!(hint.contains("torch = \"pytorch-cu124\""), "{hint}");
    assert!(!lock_packages(&project.join("pylock.envscan.toml")).contains_key("torch"));

    // The same lines in uv's shape, pointing at the local copy of that index.
    let lines = format!(
        "\n[[tool.uv.index]]\nname = \"pytorch-cu124\"\nurl = \"{}\"\nexplicit = true\n\n\
         [tool.uv.sources]\ntorch = {{ index = \"pytorch-cu124\" }}\n",
        index.index("cu124")
    );
    std::fs::write(project.join("pyproject.toml"), config(&index, &lines)).unwrap();
    let (code, report, stderr) = envscan_json("lock", &project, &venv, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!codes(&report).contains(&"variant-index-missing".to_string()));
    let locked = lock_packages(&project.join("pylock.envscan.toml"));
    assert_eq!(locked["torch"].0, "2.5.1+cu124");
    assert_eq!(
        locked["torch"].1,
        index.index("cu124").trim_end_matches('/')
    );
}

#[test]
fn a_build_no_index_has_for_the_target_fails_under_strict() {
    let Some((index, dir, venv)) = target_support::index_and_venv(&[("cpu", "torch==2.5.1+cpu")])
    else {
        return;
    };
    let cpu = index.index("cpu");
    let project = project(
        dir.path(),
        &["torch"],
        &config(
            &index,
            &format!(
                "\n[[tool.envscan.index]]\nname = \"pytorch-cpu\"\nurl = \"{cpu}\"\n\n\
                 [tool.envscan.sources]\ntorch = \"pytorch-cpu\"\n"
            ),
        ),
    );
    // CUDA 11.8: the cpu index has no +cu11x build of torch.
    let (code, report, _) = envscan_json("lock", &project, &venv, &["--target-cuda", "11.8"]);
    assert_eq!(code, 0);
    assert!(codes(&report).contains(&"target-variant-mismatch".to_string()));
    // The installed build is still locked, as it is.
    assert_eq!(package(&report, "torch").unwrap()["version"], "2.5.1+cpu");
    let (code, _, _) = envscan_json(
        "lock",
        &project,
        &venv,
        &["--target-cuda", "11.8", "--strict"],
    );
    assert_eq!(code, 1);
    // Without a CUDA target the +cpu build is what the target gets.
    let (code, report, _) = envscan_json("lock", &project, &venv, &["--strict"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        package(&report, "torch").unwrap()["target"]["file"],
        "torch-2.5.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    );
}
