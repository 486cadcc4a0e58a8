//! Likely distribution names for import names that differ from them (`sklearn` is provided by
//! `scikit-learn`). Used only to *suggest* what to install for an unresolved import: envscan
//! never looks an import name up on an index (that is how a project's own `fastops.so` becomes
//! an unrelated PyPI project of that name).
//!
//! `[tool.envscan] import-names = { mymod = "my-dist" }` extends and overrides the table.

use std::collections::BTreeMap;

/// Import name → distribution name, for well-known projects whose names differ.
const KNOWN: &[(&str, &str)] = &[
    ("Crypto", "pycryptodome"),
    ("OpenSSL", "pyOpenSSL"),
    ("PIL", "Pillow"),
    ("attr", "attrs"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv-python"),
    ("dateutil", "python-dateutil"),
    ("docx", "python-docx"),
    ("dotenv", "python-dotenv"),
    ("fitz", "PyMuPDF"),
    ("gi", "PyGObject"),
    ("git", "GitPython"),
    ("google.protobuf", "protobuf"),
    ("jose", "python-jose"),
    ("jwt", "PyJWT"),
    ("magic", "python-magic"),
    ("mpl_toolkits", "matplotlib"),
    ("multipart", "python-multipart"),
    ("serial", "pyserial"),
    ("sklearn", "scikit-learn"),
    ("skimage", "scikit-image"),
    ("slugify", "python-slugify"),
    ("telegram", "python-telegram-bot"),
    ("usb", "pyusb"),
    ("win32api", "pywin32"),
    ("yaml", "PyYAML"),
    ("zmq", "pyzmq"),
];

/// The suggestion table with the user's additions.
#[derive(Debug, Clone)]
pub struct Suggestions {
    table: BTreeMap<String, String>,
}

impl Suggestions {
    pub fn new(extra: &BTreeMap<String, String>) -> Self {
        let mut table: BTreeMap<String, String> = KNOWN
            .iter()
            .map(|(module, dist)| (module.to_string(), dist.to_string()))
            .collect();
        table.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        Self { table }
    }

    /// The distribution that most likely provides `module`: the longest known prefix of its
    /// dotted name, or its top-level name itself.
    pub fn likely_distribution(&self, module: &str) -> String {
        let mut name = module;
        loop {
            if let Some(dist) = self.table.get(name) {
                return dist.clone();
            }
            match name.rsplit_once('.') {
                Some((parent, _)) => name = parent,
                None => {
                    let top = module.split('.').next().unwrap_or(module);
                    return top.trim_start_matches('_').replace('_', "-");
                }
            }
        }
    }

    /// Whether the suggestion differs from the import name (worth a hint).
    pub fn differs(&self, module: &str) -> bool {
        let top = module.split('.').next().unwrap_or(module);
        crate::names::PackageName::new(top)
            != crate::names::PackageName::new(&self.likely_distribution(module))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_import_names_suggest_their_distribution() {
        let s = Suggestions::new(&BTreeMap::new());
        assert_eq!(
            s.likely_distribution("sklearn.linear_model"),
            "scikit-learn"
        );
        assert_eq!(s.likely_distribution("cv2"), "opencv-python");
        assert_eq!(s.likely_distribution("yaml"), "PyYAML");
        assert_eq!(s.likely_distribution("PIL.Image"), "Pillow");
        assert_eq!(s.likely_distribution("bs4"), "beautifulsoup4");
        assert!(s.differs("sklearn"));
    }

    #[test]
    fn unknown_import_names_suggest_themselves() {
        let s = Suggestions::new(&BTreeMap::new());
        assert_eq!(s.likely_distribution("requests.adapters"), "requests");
        assert_eq!(
            s.likely_distribution("typing_extensions"),
            "typing-extensions"
        );
        assert!(!s.differs("requests"));
    }

    #[test]
    fn the_configuration_extends_and_overrides_the_table() {
        let extra = BTreeMap::from([
            ("yaml".to_string(), "ruamel-yaml".to_string()),
            ("acme".to_string(), "acme-client".to_string()),
        ]);
        let s = Suggestions::new(&extra);
        assert_eq!(s.likely_distribution("yaml"), "ruamel-yaml");
        assert_eq!(s.likely_distribution("acme.tools"), "acme-client");
    }
}
