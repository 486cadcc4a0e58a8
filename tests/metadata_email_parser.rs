//! envscan's core-metadata reader against CPython's own on the shapes METADATA and PKG-INFO
//! files take (issue 8): each case is written to a `*.dist-info/METADATA` file and read both
//! by `envscan::env::metadata::CoreMetadata` and by `importlib.metadata.PathDistribution`
//! (which decodes with universal newlines and parses with `email.parser`, policy compat32).

mod support;

use envscan::env::metadata::CoreMetadata;
use serde_json::{Value, json};

const CASES: &[&str] = &[
    // Metadata 1.0, as distutils wrote it, with a folded Description.
    "Metadata-Version: 1.0\nName: old\nVersion: 0.1\nDescription: first\n        \n        second\nPlatform: UNKNOWN\n",
    // 1.1 and 1.2: Requires-Python, Requires-Dist in the middle of a long folded License.
    "Metadata-Version: 1.2\nName: mid\nVersion: 2\nLicense: line one\n         \n        line three\nRequires-Python: >=3.6\nRequires-Dist: a\n",
    // 2.1+: the body after the first empty line is the description, never headers.
    "Metadata-Version: 2.1\nName: new\nVersion: 3\nRequires-Dist: a; extra == \"x\"\nProvides-Extra: x\n\nRequires-Dist: not-a-header\n",
    // A line of spaces, a line of one tab: continuations, not the end.
    "Metadata-Version: 2.4\nName: ws\nVersion: 1\nLicense: MIT\n \n\t\nRequires-Dist: b\nProvides-Extra: y\n",
    // CRLF, and a lone CR.
    "Metadata-Version: 2.2\r\nName: crlf\r\nVersion: 1\rRequires-Dist: c\r\n\r\nRequires-Dist: body\r\n",
    // Field names in any case; repeated single fields (the first wins).
    "metadata-version: 2.3\nNAME: first\nName: second\nversion: 4\nversion: 5\nrequires-dist: d\nREQUIRES-DIST: e\nprovides-extra: z\n",
    // A folded Requires-Dist and a folded Requires-Python.
    "Metadata-Version: 2.1\nName: fold\nVersion: 1\nRequires-Python: >=3.8,\n  <4\nRequires-Dist: f;\n        python_version < \"3.12\"\n",
    // A line that is no header ends the headers (a field name holds no space).
    "Metadata-Version: 2.1\nName: stop\nVersion: 1\nBad Name: x\nRequires-Dist: lost\n",
    "Metadata-Version: 2.1\nName: stop2\nVersion: 1\nplain text\nRequires-Dist: lost\n",
    // An envelope line, a nameless field, a continuation first.
    "  leading continuation\nFrom someone\nMetadata-Version: 2.1\nName: odd\n: nameless\n  its continuation\nVersion: 1\nRequires-Dist: g\n",
    // No final newline; trailing spaces kept as importlib keeps them.
    "Metadata-Version: 2.5\nName: tail\nVersion: 1 \nRequires-Dist: h ",
    // Empty values.
    "Metadata-Version: 2.1\nName: empty\nVersion: 1\nRequires-Dist:\nProvides-Extra:\nRequires-Dist: i\n",
];

const ORACLE: &str = r#"
import importlib.metadata as md, json, pathlib, sys
out = []
for folder in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    meta = md.PathDistribution(folder).metadata
    out.append({
        "name": meta["Name"],
        "version": meta["Version"],
        "metadata_version": meta["Metadata-Version"],
        "requires_python": meta["Requires-Python"],
        "requires_dist": [r for r in meta.get_all("Requires-Dist") or [] if r],
        "provides_extra": [e for e in meta.get_all("Provides-Extra") or [] if e],
    })
print(json.dumps(out))
"#;

#[test]
fn core_metadata_reads_every_case_as_importlib_metadata_does() {
    let Some(python) = support::which_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (i, case) in CASES.iter().enumerate() {
        let folder = dir.path().join(format!("case{i:02}-1.dist-info"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("METADATA"), case).unwrap();
    }
    let output = support::run(
        std::process::Command::new(python)
            .arg("-c")
            .arg(ORACLE)
            .arg(dir.path()),
    );
    let theirs: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(theirs.len(), CASES.len());
    for (case, theirs) in CASES.iter().zip(theirs) {
        let meta = CoreMetadata::parse(case);
        let ours = json!({
            "name": meta.name,
            "version": meta.version,
            "metadata_version": meta.metadata_version,
            "requires_python": meta.requires_python,
            "requires_dist": meta.requires_dist,
            "provides_extra": meta.provides_extra,
        });
        assert_eq!(ours, theirs, "for {case:?}");
    }
}
