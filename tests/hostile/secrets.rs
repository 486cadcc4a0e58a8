//! Secrets in a project: by name, by content, through symbolic and hard links; none reaches an
//! archive or an output.
//!
//! Each case plants a secret whose text holds a unique token, runs `envscan pack`, and checks
//! the invariants its name states: the exit code, no panic, that the token is in no file of the
//! output folder (archives decompressed) and never on stdout or stderr, and that the exclusion
//! is reported on the path that would have carried it.

use std::path::PathBuf;

use super::harness::*;

/// `envscan pack` on the sandbox's project with its minimal venv, offline, archives in
/// `root/out` unless `extra` gives another `--out`.
pub(crate) fn pack(sb: &Sandbox, extra: &[&str]) -> Outcome {
    let venv = sb.venv();
    let venv = venv.to_str().unwrap();
    let out = out_dir(sb);
    let mut args = vec!["pack", "--python", venv, "--offline"];
    if !extra.contains(&"--out") {
        args.extend(["--out", out.to_str().unwrap()]);
    }
    args.extend(extra);
    sb.run(&args)
}

pub(crate) fn out_dir(sb: &Sandbox) -> PathBuf {
    sb.root.join("out")
}

/// A project `main.py` → `pkg` with an `__init__.py`, so `pkg/` is packed.
pub(crate) fn with_package(sb: &Sandbox) {
    sb.write("main.py", "import pkg\n");
    sb.write("pkg/__init__.py", "VERSION = 1\n");
}

/// The files the archives in the output folder hold.
pub(crate) fn packed(sb: &Sandbox) -> Vec<String> {
    archive_entries(&out_dir(sb)).into_keys().collect()
}

/// Invariant shared by every secret case: the token is in no output file (archives
/// decompressed) and in neither stdout nor stderr; nothing outside changed.
fn assert_secret_kept(sb: &Sandbox, outcome: &Outcome, token: &str) {
    assert_no_secret_under(&out_dir(sb), token);
    outcome.assert_never_says(token);
    sb.assert_outside_unchanged();
}

/// Invariant: a `secret-excluded` diagnostic names `file`.
fn assert_reported(outcome: &Outcome, file: &str) {
    assert!(
        outcome
            .stderr
            .lines()
            .any(|l| l.starts_with(&format!("{file}: ")) && l.contains("[secret-excluded]")),
        "no secret-excluded for {file}:\n{outcome}"
    );
}

/// The packed project with `pkg/__init__.py` and nothing secret: exit 0, the secret out.
fn pack_ok(sb: &Sandbox, token: &str) -> Outcome {
    let outcome = pack(sb, &[]);
    outcome.assert_exit(0);
    assert!(
        packed(sb).contains(&"pkg/__init__.py".to_string()),
        "{outcome}"
    );
    assert_secret_kept(sb, &outcome, token);
    outcome
}

// ------------------------------------------------------------------ through symbolic links

#[test]
fn a_link_to_the_project_dotenv_is_not_packed_and_is_reported() {
    // Regression (defect 1): `pkg/settings.txt -> ../.env` was packed because only the link's
    // name was judged. Invariant: exit 0, the .env text in no output, the link reported.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".env", "DB_PASSWORD=tok-dotenv-link-1\n");
    sb.symlink("../.env", "pkg/settings.txt");
    let outcome = pack_ok(&sb, "tok-dotenv-link-1");
    assert_reported(&outcome, "pkg/settings.txt");
    assert!(!packed(&sb).contains(&"pkg/settings.txt".to_string()));
}

#[test]
fn a_link_to_an_ssh_key_elsewhere_in_the_project_is_not_packed() {
    // Regression (defect 1): `pkg/deploy_key.txt -> ../deploy/id_ed25519`. Invariant: exit 0,
    // the key in no output, the link reported.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("deploy/id_ed25519", "tok-ssh-link-2\n");
    sb.symlink("../deploy/id_ed25519", "pkg/deploy_key.txt");
    let outcome = pack_ok(&sb, "tok-ssh-link-2");
    assert_reported(&outcome, "pkg/deploy_key.txt");
}

#[test]
fn a_folder_link_to_the_aws_folder_packs_none_of_it() {
    // Regression (defect 1): `pkg/awsconf -> ../.aws` packed `credentials`. Invariant: exit 0,
    // nothing under awsconf packed, the folder link reported.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        ".aws/credentials",
        "[default]\naws_secret_access_key=tok-aws-dir-3\n",
    );
    sb.write(".aws/config", "[default]\nregion=eu-west-1\n");
    sb.symlink("../.aws", "pkg/awsconf");
    let outcome = pack_ok(&sb, "tok-aws-dir-3");
    assert_reported(&outcome, "pkg/awsconf");
    assert!(!packed(&sb).iter().any(|f| f.starts_with("pkg/awsconf")));
}

#[test]
fn a_chain_of_links_ending_at_a_secret_is_judged_by_its_end() {
    // Invariant: a -> b -> ../.env.production: the final target decides; exit 0, not packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".env.production", "API_KEY=tok-chain-4\n");
    sb.symlink("../.env.production", "pkg/b.cfg");
    sb.symlink("b.cfg", "pkg/a.cfg");
    let outcome = pack_ok(&sb, "tok-chain-4");
    assert_reported(&outcome, "pkg/a.cfg");
    assert_reported(&outcome, "pkg/b.cfg");
}

#[test]
fn an_absolute_link_to_a_secret_inside_the_project_is_not_packed() {
    // Invariant: an absolute target inside the project is judged like a relative one.
    let sb = Sandbox::new();
    with_package(&sb);
    let key = sb.write("keys/server.pem", "tok-abs-link-5\n");
    sb.symlink(&key, "pkg/tls.txt");
    let outcome = pack_ok(&sb, "tok-abs-link-5");
    assert_reported(&outcome, "pkg/tls.txt");
}

#[test]
fn a_folder_link_to_a_tree_holding_an_ssh_folder_packs_the_rest_only() {
    // Invariant: nested: `pkg/ops -> ../ops` where `ops/.ssh/id_rsa`; the plain file travels,
    // the key does not.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("ops/deploy.sh", "echo deploy\n");
    sb.write("ops/.ssh/id_rsa", "tok-nested-ssh-6\n");
    sb.symlink("../ops", "pkg/ops");
    let outcome = pack_ok(&sb, "tok-nested-ssh-6");
    assert!(packed(&sb).contains(&"pkg/ops/deploy.sh".to_string()));
    assert_reported(&outcome, "pkg/ops/.ssh");
}

#[test]
fn a_link_to_a_key_outside_the_project_is_not_followed() {
    // Invariant: a link leaving the project is never followed: exit 0, outside unchanged, the
    // key in no output, reported as leaving the source folder.
    let sb = Sandbox::new();
    with_package(&sb);
    let key = sb.outside.join("id_rsa");
    std::fs::write(&key, "tok-outside-key-7\n").unwrap();
    let sb_outside_before = Tree::of(&sb.outside);
    sb.symlink(&key, "pkg/key.txt");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert_no_secret_under(&out_dir(&sb), "tok-outside-key-7");
    outcome.assert_never_says("tok-outside-key-7");
    assert_eq!(sb_outside_before, Tree::of(&sb.outside));
    assert!(
        outcome.stderr.contains("[symlink-outside-project]"),
        "{outcome}"
    );
}

#[test]
fn a_module_that_links_to_the_dotenv_is_an_error_and_nothing_is_packed() {
    // Invariant: the scan follows `pkg/settings.py -> ../.env` as code; the secret rule keeps
    // it out, so the archive would not run: exit 1, no archive, the secret nowhere.
    let sb = Sandbox::new();
    sb.write("main.py", "import pkg.settings\n");
    sb.write("pkg/__init__.py", "");
    sb.write(".env", "SECRET = 'tok-module-link-8'\n");
    sb.symlink("../.env", "pkg/settings.py");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(
        outcome.stderr.contains("[needed-file-excluded]"),
        "{outcome}"
    );
    assert!(packed(&sb).is_empty());
    assert_secret_kept(&sb, &outcome, "tok-module-link-8");
}

// ---------------------------------------------------------------------- through hard links

#[test]
fn a_hard_link_to_the_dotenv_is_not_packed() {
    // Invariant: same inode as `.env`, another name: exit 0, not packed, reported.
    let sb = Sandbox::new();
    with_package(&sb);
    let env = sb.write(".env", "TOKEN=tok-hardlink-9\n");
    std::fs::hard_link(&env, sb.project.join("pkg/defaults.txt")).unwrap();
    let outcome = pack_ok(&sb, "tok-hardlink-9");
    assert_reported(&outcome, "pkg/defaults.txt");
}

#[test]
fn a_hard_link_to_a_file_in_an_ssh_folder_is_not_packed() {
    // Invariant: a file under `.ssh` (any name) is secret, so are its other names.
    let sb = Sandbox::new();
    with_package(&sb);
    let cfg = sb.write(".ssh/known_config", "Host prod tok-hardlink-ssh-10\n");
    std::fs::hard_link(&cfg, sb.project.join("pkg/hosts.cfg")).unwrap();
    let outcome = pack_ok(&sb, "tok-hardlink-ssh-10");
    assert_reported(&outcome, "pkg/hosts.cfg");
}

#[test]
fn hard_links_between_ordinary_files_are_packed_under_both_names() {
    // Invariant: no over-reach: two names of a plain data file both travel, exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    let data = sb.write("pkg/table.csv", "a,b\n1,2\n");
    std::fs::hard_link(&data, sb.project.join("pkg/table_copy.csv")).unwrap();
    pack(&sb, &[]).assert_exit(0);
    let files = packed(&sb);
    assert!(files.contains(&"pkg/table.csv".to_string()));
    assert!(files.contains(&"pkg/table_copy.csv".to_string()));
}

// ----------------------------------------------------------------------------------- names

#[test]
fn a_module_whose_name_starts_like_a_key_is_packed() {
    // Regression (defect 16): `pkg/id_rsa_utils.py` was dropped as an SSH key. Invariant:
    // exit 0, the module is in the archive, no secret-excluded.
    let sb = Sandbox::new();
    sb.write("main.py", "import pkg.id_rsa_utils\n");
    sb.write("pkg/__init__.py", "");
    sb.write("pkg/id_rsa_utils.py", "def load(): pass\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(packed(&sb).contains(&"pkg/id_rsa_utils.py".to_string()));
    assert!(!outcome.stderr.contains("[secret-excluded]"), "{outcome}");
}

#[test]
fn ssh_keys_with_known_suffixes_and_any_case_are_not_packed() {
    // Invariant: case variations and backup/public/certificate suffixes stay out.
    let sb = Sandbox::new();
    with_package(&sb);
    for name in [
        "ID_RSA",
        "id_ed25519.pub",
        "id_ecdsa-cert.pub",
        "id_rsa.bak",
    ] {
        sb.write(&format!("pkg/{name}"), format!("tok-sshname-11-{name}\n"));
    }
    let outcome = pack_ok(&sb, "tok-sshname-11");
    for name in [
        "ID_RSA",
        "id_ed25519.pub",
        "id_ecdsa-cert.pub",
        "id_rsa.bak",
    ] {
        assert_reported(&outcome, &format!("pkg/{name}"));
    }
}

#[test]
fn docker_and_kube_configs_are_not_packed() {
    // Regression (defect 16): `.docker/config.json` and `.kube/config` were packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/.docker/config.json",
        r#"{"auths": {"r": {"auth": "tok-docker-12"}}}"#,
    );
    sb.write("pkg/.kube/config", "users:\n- token: tok-docker-12\n");
    let outcome = pack_ok(&sb, "tok-docker-12");
    assert_reported(&outcome, "pkg/.docker/config.json");
    assert_reported(&outcome, "pkg/.kube/config");
}

#[test]
fn pgpass_git_credentials_and_npmrc_are_not_packed() {
    // Regression (defect 16): these credential files were packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/.pgpass", "db:5432:*:app:tok-credfiles-13\n");
    sb.write(
        "pkg/.git-credentials",
        "https://u:tok-credfiles-13@git.example\n",
    );
    sb.write("pkg/.npmrc", "//registry/:_authToken=tok-credfiles-13\n");
    let outcome = pack_ok(&sb, "tok-credfiles-13");
    for name in [".pgpass", ".git-credentials", ".npmrc"] {
        assert_reported(&outcome, &format!("pkg/{name}"));
    }
}

#[test]
fn credentials_json_is_not_packed() {
    // Regression (defect 16): `credentials.json` (OAuth client secrets) was packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/credentials.json",
        r#"{"installed": {"client_secret": "tok-credjson-14"}}"#,
    );
    let outcome = pack_ok(&sb, "tok-credjson-14");
    assert_reported(&outcome, "pkg/credentials.json");
}

#[test]
fn keystores_p12_pfx_and_jks_are_not_packed() {
    // Regression (defect 16 for *.jks): binary key stores stay out whatever their case.
    let sb = Sandbox::new();
    with_package(&sb);
    for name in ["client.p12", "Server.PFX", "trust.jks"] {
        sb.write(&format!("pkg/{name}"), format!("tok-keystore-15 {name}"));
    }
    let outcome = pack_ok(&sb, "tok-keystore-15");
    for name in ["client.p12", "Server.PFX", "trust.jks"] {
        assert_reported(&outcome, &format!("pkg/{name}"));
    }
}

#[test]
fn a_deeply_nested_dotenv_variant_is_not_packed() {
    // Invariant: the name rule holds at any depth.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/a/b/c/d/e/.env.staging", "PW=tok-deep-env-16\n");
    let outcome = pack_ok(&sb, "tok-deep-env-16");
    assert_reported(&outcome, "pkg/a/b/c/d/e/.env.staging");
}

#[test]
fn a_dotenv_folder_that_is_not_a_venv_is_not_packed() {
    // Invariant: a folder named `.env.d` holds environment files: reported, none packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/.env.d/db", "PW=tok-envdir-17\n");
    let outcome = pack_ok(&sb, "tok-envdir-17");
    assert_reported(&outcome, "pkg/.env.d");
}

#[test]
fn a_venv_named_dotenv_inside_a_package_is_left_out_silently() {
    // Invariant: a virtual environment is noise: not packed, not reported as a secret.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/.env/pyvenv.cfg", "home = /usr/bin\n");
    sb.write("pkg/.env/lib/site.py", "tok-venv-18 = 1\n");
    let outcome = pack_ok(&sb, "tok-venv-18");
    assert!(!outcome.stderr.contains("[secret-excluded]"), "{outcome}");
}

// --------------------------------------------------------------------------------- content

#[test]
fn a_pem_private_key_under_a_harmless_name_is_not_packed() {
    // Invariant (defect 16, content): a PEM private key header excludes a file whatever its
    // name; the key body reaches no output.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/data/bundle.txt",
        "-----BEGIN RSA PRIVATE KEY-----\ntok-pem-19AAAA\n-----END RSA PRIVATE KEY-----\n",
    );
    let outcome = pack_ok(&sb, "tok-pem-19");
    assert_reported(&outcome, "pkg/data/bundle.txt");
}

#[test]
fn an_openssh_private_key_in_a_markdown_file_is_not_packed() {
    // Invariant: an OpenSSH key pasted into notes stays out.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/NOTES.md",
        "# deploy\n\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    b3BlbnNzaC1rZXktdjEtok-openssh-20\n    -----END OPENSSH PRIVATE KEY-----\n",
    );
    let outcome = pack_ok(&sb, "tok-openssh-20");
    assert_reported(&outcome, "pkg/NOTES.md");
}

#[test]
fn an_encrypted_pkcs8_key_with_crlf_line_ends_is_not_packed() {
    // Invariant: Windows line ends do not hide the header.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/legacy.dat",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\r\ntok-crlf-21\r\n-----END ENCRYPTED PRIVATE KEY-----\r\n",
    );
    let outcome = pack_ok(&sb, "tok-crlf-21");
    assert_reported(&outcome, "pkg/legacy.dat");
}

#[test]
fn a_putty_key_file_is_not_packed() {
    // Invariant: a PuTTY key (`PuTTY-User-Key-File-` at the start) stays out.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/server.ppk",
        "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\ntok-putty-22\n",
    );
    let outcome = pack_ok(&sb, "tok-putty-22");
    assert_reported(&outcome, "pkg/server.ppk");
}

#[test]
fn an_aws_access_key_id_in_a_data_file_is_not_packed() {
    // Invariant: an AWS access key id excludes an ini file.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/settings.ini",
        "[aws]\nkey = AKIAQWERTYUIOPASDFGH\nsecret = tok-awsid-23\n",
    );
    let outcome = pack_ok(&sb, "tok-awsid-23");
    outcome.assert_never_says("AKIAQWERTYUIOPASDFGH");
    assert_reported(&outcome, "pkg/settings.ini");
}

#[test]
fn a_service_account_json_with_a_private_key_is_not_packed() {
    // Regression (defect 16): a service-account key under any `.json` name was packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(
        "pkg/sa-prod.json",
        r#"{"type": "service_account", "private_key": "tok-sa-24", "client_email": "x"}"#,
    );
    let outcome = pack_ok(&sb, "tok-sa-24");
    assert_reported(&outcome, "pkg/sa-prod.json");
}

#[test]
fn a_module_holding_an_aws_key_is_an_error_and_nothing_is_packed() {
    // Invariant (defect 16): a module the import graph needs that a rule excludes is an
    // error, not a silent drop: exit 1, no archive, no manifest, the key nowhere.
    let sb = Sandbox::new();
    sb.write("main.py", "import pkg.config\n");
    sb.write("pkg/__init__.py", "");
    sb.write(
        "pkg/config.py",
        "AWS_ACCESS_KEY_ID = 'AKIAZXCVBNMASDFGHJKL'  # tok-module-aws-25\n",
    );
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(
        outcome
            .stderr
            .contains("pkg/config.py: error[needed-file-excluded]"),
        "{outcome}"
    );
    assert!(!out_dir(&sb).join("manifest.json").exists());
    assert!(packed(&sb).is_empty());
    assert_secret_kept(&sb, &outcome, "tok-module-aws-25");
    outcome.assert_never_says("AKIAZXCVBNMASDFGHJKL");
}

#[test]
fn aws_documentation_placeholder_in_a_module_is_packed() {
    // Invariant: no over-reach: AWS's documented example key id is not a credential.
    let sb = Sandbox::new();
    sb.write("main.py", "import pkg.example\n");
    sb.write("pkg/__init__.py", "");
    sb.write("pkg/example.py", "KEY = 'AKIAIOSFODNN7EXAMPLE'\n");
    pack(&sb, &[]).assert_exit(0);
    assert!(packed(&sb).contains(&"pkg/example.py".to_string()));
}

#[test]
fn code_that_only_names_a_pem_header_is_packed() {
    // Invariant: no over-reach: a parser that compares lines with the header is code.
    let sb = Sandbox::new();
    sb.write("main.py", "import pkg.pem\n");
    sb.write("pkg/__init__.py", "");
    sb.write(
        "pkg/pem.py",
        "HEADER = '-----BEGIN RSA PRIVATE KEY-----'\ndef is_key(l): return l == HEADER\n",
    );
    pack(&sb, &[]).assert_exit(0);
    assert!(packed(&sb).contains(&"pkg/pem.py".to_string()));
}

#[test]
fn a_secret_top_level_module_linked_to_a_key_is_an_error() {
    // Invariant: a member itself (top-level `keys.py -> deploy/id_rsa`) is judged by its
    // target: exit 1, nothing packed, the key nowhere.
    let sb = Sandbox::new();
    sb.write("main.py", "import keys\n");
    sb.write("deploy/id_rsa", "tok-member-link-26\n");
    sb.symlink("deploy/id_rsa", "keys.py");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(
        outcome
            .stderr
            .contains("keys.py: error[needed-file-excluded]"),
        "{outcome}"
    );
    assert_secret_kept(&sb, &outcome, "tok-member-link-26");
}

// ------------------------------------------------------------------------------ JSON output

#[test]
fn pack_json_carries_secret_exclusions_and_matches_its_schema() {
    // Regression (defect 16): `pack --format json` printed only the manifest. Invariant:
    // exit 0, valid against schemas/pack.schema.json, each exclusion listed, no secret text.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".env", "X=tok-json-27\n");
    sb.symlink("../.env", "pkg/settings.txt");
    sb.write("pkg/id_rsa", "tok-json-27\n");
    let outcome = pack(&sb, &["--format", "json"]);
    outcome.assert_exit(0);
    let report: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    crate::support::assert_valid("pack.schema.json", &report);
    assert_eq!(report["packed"], true);
    let excluded: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "secret-excluded")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(excluded, ["pkg/id_rsa", "pkg/settings.txt"]);
    assert_eq!(report["archives"].as_array().unwrap().len(), 1);
    assert_secret_kept(&sb, &outcome, "tok-json-27");
}

#[test]
fn pack_json_says_nothing_was_packed_when_a_needed_module_is_secret() {
    // Invariant: exit 1, `packed: false`, no archives, the error in the JSON, no secret.
    let sb = Sandbox::new();
    sb.write("main.py", "import cfg\n");
    sb.write(
        "cfg.py",
        "KEY = '''\n-----BEGIN PRIVATE KEY-----\ntok-json-fail-28\n-----END PRIVATE KEY-----\n'''\n",
    );
    let outcome = pack(&sb, &["--format", "json"]);
    outcome.assert_exit(1);
    let report: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    crate::support::assert_valid("pack.schema.json", &report);
    assert_eq!(report["packed"], false);
    assert!(report["archives"].as_array().unwrap().is_empty());
    assert!(outcome.stdout.contains("needed-file-excluded"));
    assert_secret_kept(&sb, &outcome, "tok-json-fail-28");
}

// ------------------------------------------------------------------------------ file names

#[test]
fn a_file_name_with_a_bidi_override_is_refused_with_a_diagnostic() {
    // Regression (defect 16): `pkg/gpj.\u{202e}sh` (shown as `hs.jpg`) was packed silently.
    // Invariant: exit 0, not packed, an archive-invalid-path warning with the character
    // escaped, the raw character on no output.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/gpj.\u{202e}sh", "echo owned\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(!packed(&sb).iter().any(|f| f.contains('\u{202e}')));
    assert!(
        outcome.stderr.contains("[archive-invalid-path]"),
        "{outcome}"
    );
    assert!(outcome.stderr.contains("\\u{202e}"), "{outcome}");
    outcome.assert_never_says("\u{202e}");
}

#[test]
fn a_file_name_with_an_isolate_control_is_refused() {
    // Invariant: the bidi isolates (U+2066..U+2069) are refused as well.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/read\u{2067}me.txt", "x\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(packed(&sb).iter().all(|f| !f.contains('\u{2067}')));
    assert!(
        outcome.stderr.contains("[archive-invalid-path]"),
        "{outcome}"
    );
}
