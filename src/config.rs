//! Settings: the optional `.imagepin.yaml` (or `--config FILE`) merged with the command
//! line, validated once into what the walker, the scanner filters and the registry
//! layer take. The rest of the program never sees raw flags or raw config.
//!
//! ```yaml
//! exclude: ["vendor/**", "**/testdata/**"]   # paths never scanned (gitignore globs)
//! ignore: ["localhost/*", "*:dev"]           # images never reported or pinned
//! mirrors:
//!   docker.io: https://mirror.example/dockerhub
//! registries:
//!   registry.internal:5000: {ca: certs/internal-ca.pem}
//!   legacy.internal: {insecure: true}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::finding::Finding;
use crate::registry::{HostSettings, Routing};

/// The names a config file is looked for under, in the scanned root.
pub const CONFIG_NAMES: [&str; 2] = [".imagepin.yaml", ".imagepin.yml"];

/// The config file as written. Unknown keys are an error naming the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Path globs (gitignore syntax, relative to the config file) never scanned.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Image patterns never reported or pinned (`*` matches any characters).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Registry → mirror URL, as `--mirror` (which wins over this).
    #[serde(default)]
    pub mirrors: BTreeMap<String, String>,
    /// Registry host → how to reach it (`ca`, `insecure`).
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryConfig>,
}

/// One entry of `registries:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// PEM bundle of CA certificates to trust for this host (relative to the config).
    pub ca: Option<PathBuf>,
    /// Plain HTTP for this host.
    #[serde(default)]
    pub insecure: bool,
}

/// What decides which files and references are looked at.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    pub exclude: Option<Exclude>,
    pub ignore: ImageFilter,
}

/// `exclude:` globs, matched against paths relative to the config file's directory.
/// A glob without a `/` matches a file or directory name anywhere.
#[derive(Debug, Clone)]
pub struct Exclude {
    /// The real (canonical) directory the globs are relative to.
    base: PathBuf,
    paths: GlobSet,
    names: GlobSet,
}

impl Exclude {
    pub fn new(base: &Path, globs: &[String]) -> Result<Exclude, String> {
        let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
        let mut paths = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for g in globs {
            let pattern = g.trim_start_matches("./").trim_end_matches('/');
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("exclude pattern {g:?}: {e}"))?;
            if pattern.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        Ok(Exclude {
            base,
            paths: paths
                .build()
                .map_err(|e| format!("exclude patterns: {e}"))?,
            names: names
                .build()
                .map_err(|e| format!("exclude patterns: {e}"))?,
        })
    }

    /// Whether a real (absolute) path is excluded.
    pub fn matches(&self, real: &Path) -> bool {
        let Ok(rel) = real.strip_prefix(&self.base) else {
            return false;
        };
        self.paths.is_match(rel) || rel.file_name().is_some_and(|n| self.names.is_match(n))
    }
}

/// Image patterns from `ignore:`.
#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    set: GlobSet,
}

impl ImageFilter {
    pub fn new(patterns: &[String]) -> Result<ImageFilter, String> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let glob = GlobBuilder::new(p)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("ignore pattern {p:?}: {e}"))?;
            builder.add(glob);
        }
        let set = builder
            .build()
            .map_err(|e| format!("ignore patterns: {e}"))?;
        Ok(ImageFilter { set })
    }

    /// Whether a finding's image matches a pattern: the text as written, the full name
    /// (`docker.io/library/nginx`) or the full name with its tag.
    pub fn matches(&self, f: &Finding) -> bool {
        if self.set.is_empty() {
            return false;
        }
        if self.set.is_match(&f.text) {
            return true;
        }
        let Some(r) = &f.reference else { return false };
        let full = r.full_name();
        let with_tag = match &r.tag {
            Some(tag) => format!("{full}:{tag}"),
            None => full.clone(),
        };
        self.set.is_match(&full) || self.set.is_match(&with_tag)
    }
}

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    pub routing: Routing,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Find and read the config: `--config FILE`, else `.imagepin.yaml` in the first
/// scanned directory (or the current directory when the first path is a file).
/// Returns the parsed file and the directory its globs are relative to.
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<(ConfigFile, PathBuf), String> {
    let (path, dir) = match explicit {
        Some(p) => (Some(p.to_path_buf()), parent_dir(p)),
        None => {
            let dir = roots
                .first()
                .filter(|r| r.is_dir())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            let found = CONFIG_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file());
            (found, dir)
        }
    };
    let Some(path) = path else {
        return Ok((ConfigFile::default(), dir));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if text.trim().is_empty() {
        return Ok((ConfigFile::default(), dir));
    }
    let config: ConfigFile =
        yaml_serde::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((config, dir))
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl ConfigFile {
    /// The walker and filter settings.
    pub fn scan_settings(&self, dir: &Path) -> Result<ScanSettings, String> {
        let exclude = if self.exclude.is_empty() {
            None
        } else {
            Some(Exclude::new(dir, &self.exclude)?)
        };
        Ok(ScanSettings {
            exclude,
            ignore: ImageFilter::new(&self.ignore)?,
        })
    }

    /// Registry settings: config mirrors, then `--mirror` specs (which win), and the
    /// per-host settings (CA paths relative to `dir`, the config's directory).
    pub fn registry_settings(
        &self,
        dir: &Path,
        mirror_specs: &[String],
        concurrency: usize,
        timeout_secs: u64,
    ) -> Result<RegistrySettings, String> {
        let mut routing = Routing::default();
        for (registry, url) in &self.mirrors {
            routing.add(registry, url)?;
        }
        for spec in mirror_specs {
            routing.add_spec(spec)?;
        }
        for (host, r) in &self.registries {
            if r.insecure && r.ca.is_some() {
                return Err(format!(
                    "registries.{host}: `ca` and `insecure: true` contradict each other"
                ));
            }
            routing.set_host(
                host,
                HostSettings {
                    ca: r.ca.as_ref().map(|c| dir.join(c)),
                    insecure: r.insecure,
                },
            );
        }
        if !(1..=256).contains(&concurrency) {
            return Err("--concurrency must be between 1 and 256".into());
        }
        if timeout_secs == 0 {
            return Err("--timeout must be at least 1 second".into());
        }
        Ok(RegistrySettings {
            routing,
            concurrency,
            timeout: Duration::from_secs(timeout_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::classify;

    fn finding(text: &str) -> Finding {
        let (status, reference, note) = classify(text);
        Finding {
            path: PathBuf::from("x"),
            span: 0..text.len(),
            line: 1,
            column: 1,
            text: text.into(),
            pin: crate::finding::PinSite::Inline,
            format: crate::finding::Format::Yaml,
            status,
            reference,
            note,
        }
    }

    #[test]
    fn image_patterns() {
        let f = ImageFilter::new(&[
            "localhost/*".into(),
            "*:dev".into(),
            "registry.internal/**".into(),
            "docker.io/library/redis*".into(),
        ])
        .unwrap();
        assert!(f.matches(&finding("localhost/app")));
        assert!(f.matches(&finding("acme/app:dev")));
        assert!(f.matches(&finding("registry.internal/a/b:1")));
        assert!(f.matches(&finding("redis:7")), "normalised name");
        assert!(!f.matches(&finding("nginx:1.25")));
        assert!(!f.matches(&finding("acme/app:devel")));
    }

    #[test]
    fn exclude_globs_are_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let x = Exclude::new(
            dir.path(),
            &["vendor/**".into(), "*.tmpl.yaml".into(), "./gen/".into()],
        )
        .unwrap();
        assert!(x.matches(&base.join("vendor/a/b.yaml")));
        assert!(x.matches(&base.join("deep/x.tmpl.yaml")));
        assert!(x.matches(&base.join("gen")));
        assert!(!x.matches(&base.join("src/vendor.yaml")));
        assert!(
            !x.matches(&base.join("app/vendor/a.yaml")),
            "anchored at the config"
        );
        assert!(!x.matches(Path::new("/elsewhere/vendor/a.yaml")));
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".imagepin.yaml");
        std::fs::write(&p, "exlude: [x]\n").unwrap();
        let err = load(Some(&p), &[]).unwrap_err();
        assert!(err.contains("exlude"), "{err}");
        std::fs::write(
            &p,
            "mirrors:\n  docker.io: http://127.0.0.1:5000\nignore: ['*:dev']\n",
        )
        .unwrap();
        let (c, _) = load(None, &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(c.ignore, ["*:dev"]);
        let r = c.registry_settings(dir.path(), &[], 4, 10).unwrap();
        assert!(r.routing.get("docker.io").is_some());
    }
}
