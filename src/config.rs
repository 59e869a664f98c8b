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

use crate::changed::ChangedFiles;
use crate::finding::{Finding, holds_git};
use crate::registry::endpoint::canonical_registry;
use crate::registry::{HostSettings, Routing};

/// The names a config file is looked for under, in the scanned root.
pub const CONFIG_NAMES: [&str; 2] = [".imagepin.yaml", ".imagepin.yml"];

/// The config file as written. Unknown keys are an error naming the key.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with the keys `exclude`, `ignore`, `mirrors` and/or `registries`"
)]
pub struct ConfigFile {
    /// Path globs (gitignore syntax, relative to the config file) never scanned.
    #[serde(default, deserialize_with = "exclude_patterns")]
    pub exclude: Vec<String>,
    /// Image patterns never reported or pinned (`*` matches any characters).
    #[serde(default, deserialize_with = "ignore_patterns")]
    pub ignore: Vec<String>,
    /// Registry → mirror URL, as `--mirror` (which wins over this).
    #[serde(default)]
    pub mirrors: BTreeMap<String, String>,
    /// Registry host → how to reach it (`ca`, `insecure`).
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryConfig>,
}

/// A list of patterns as written: an item YAML reads as a number, a boolean or null
/// (`ignore: [5]`, `[yes]`) is refused, not turned into text the user did not write.
fn patterns<'de, D: serde::Deserializer<'de>>(d: D, key: &str) -> Result<Vec<String>, D::Error> {
    use serde::de::Error;
    use yaml_serde::Value;
    Vec::<Value>::deserialize(d)?
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(s),
            Value::Number(n) => Err(D::Error::custom(format!(
                "{key}: a pattern YAML reads as the number {n}; quote it as you wrote it"
            ))),
            Value::Bool(b) => Err(D::Error::custom(format!(
                "{key}: the pattern {b} is a boolean in YAML; quote it"
            ))),
            Value::Null => Err(D::Error::custom(format!("{key}: an empty pattern (null)"))),
            _ => Err(D::Error::custom(format!(
                "{key}: a pattern must be a string"
            ))),
        })
        .collect()
}

fn exclude_patterns<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    patterns(d, "exclude")
}

fn ignore_patterns<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    patterns(d, "ignore")
}

/// One entry of `registries:`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `ca` and/or `insecure`"
)]
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
    /// `--changed-since`: only these files are scanned.
    pub changed: Option<std::sync::Arc<ChangedFiles>>,
    /// The config found upward from the paths given (inner `None`: none), when one
    /// was looked for (not with `--config`): any other config the walk meets below is
    /// not this run's, and is reported as unused.
    pub found_config: Option<Option<PathBuf>>,
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

    /// Whether a finding's image matches a pattern. Patterns are matched against the
    /// text as written and against the normalised image in every spelling Docker
    /// accepts — `docker.io/library/redis`, `library/redis` and `redis` for Docker Hub's
    /// official images — each alone, with its tag, with its digest and with both: so
    /// `redis:7` also ignores `redis:7@sha256:…` and `docker.io/library/redis:7`, and a
    /// pattern without a tag (`redis`) matches every tag.
    pub fn matches(&self, f: &Finding) -> bool {
        if self.set.is_empty() {
            return false;
        }
        if self.set.is_match(&f.text) {
            return true;
        }
        let Some(r) = &f.reference else { return false };
        image_spellings(r).iter().any(|s| self.set.is_match(s))
    }
}

/// The ways an image can be named: each name Docker resolves to the same repository,
/// alone and with the reference's tag and digest.
fn image_spellings(r: &crate::reference::Reference) -> Vec<String> {
    let mut names = vec![r.full_name()];
    if r.registry == "docker.io" {
        names.push(r.repository.clone());
        if let Some(short) = r.repository.strip_prefix("library/") {
            names.push(short.to_string());
        }
    }
    let mut out = Vec::with_capacity(names.len() * 4);
    for name in names {
        if let Some(tag) = &r.tag {
            out.push(format!("{name}:{tag}"));
            if let Some(digest) = &r.digest {
                out.push(format!("{name}:{tag}@{digest}"));
            }
        }
        if let Some(digest) = &r.digest {
            out.push(format!("{name}@{digest}"));
        }
        out.push(name);
    }
    out
}

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    pub routing: Routing,
    /// The registries `--mirror` flags name (canonical), to say when one names a
    /// registry no reference is on.
    pub flag_mirrors: Vec<String>,
    /// The same for the config's `mirrors:` keys, and its `registries:` keys (hosts).
    pub config_mirrors: Vec<String>,
    pub config_registries: Vec<String>,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Find and read the config. `--config FILE` wins (a directory is refused; anything
/// readable, `/dev/null` included, is read). Otherwise each scanned path looks for
/// `.imagepin.yaml` (or `.yml`) as git looks for its files: in its directory (a file's
/// own directory), then each parent up to the root of the git repository it is in — or
/// up to the filesystem root outside a repository; the nearest one counts. Paths whose
/// searches find different configs (or one none) in one run are refused: one run has
/// one set of mirrors and filters. Returns the parsed file and the directory its
/// relative paths are relative to.
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<(ConfigFile, PathBuf), String> {
    if let Some(p) = explicit {
        if p.is_dir() {
            return Err(format!(
                "--config {}: is a directory; name the config file (e.g. {})",
                p.display(),
                p.join(CONFIG_NAMES[0]).display()
            ));
        }
        if !p.exists() {
            return Err(format!("--config {}: no such file", p.display()));
        }
        return Ok((read(p)?, parent_dir(p)));
    }
    let mut found: Vec<(&PathBuf, Option<PathBuf>)> = Vec::new();
    for root in roots {
        let config = discover(root);
        if let Some((other, theirs)) = found.iter().find(|(_, c)| *c != config) {
            let name = |c: &Option<PathBuf>| match c {
                Some(p) => p.display().to_string(),
                None => "no config".to_string(),
            };
            return Err(format!(
                "the paths given fall under different configs: {} uses {}, {} uses {}; scan them in separate runs or name one with --config",
                other.display(),
                name(theirs),
                root.display(),
                name(&config)
            ));
        }
        found.push((root, config));
    }
    match found.into_iter().next().and_then(|(_, c)| c) {
        Some(path) => Ok((read(&path)?, parent_dir(&path))),
        None => Ok((ConfigFile::default(), PathBuf::from("."))),
    }
}

/// The config a scanned path falls under: the nearest `.imagepin.yaml` from its
/// directory upward, stopping at the repository root (the directory holding `.git`).
pub fn discover(root: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(root).ok()?;
    let start = if real.is_dir() {
        real.as_path()
    } else {
        real.parent()?
    };
    for dir in start.ancestors() {
        if let Some(found) = CONFIG_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
        {
            return Some(found);
        }
        if holds_git(dir) {
            return None;
        }
    }
    None
}

/// Parse one config file. `<<:` merge keys are merged as YAML 1.1 says, through a
/// generic value; without them the file is read directly, so errors keep their line.
fn read(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    let bad = |e: yaml_serde::Error| format!("{}: {e}", path.display());
    let mut value: yaml_serde::Value = yaml_serde::from_str(&text).map_err(bad)?;
    let file: ConfigFile = if has_merge_key(&value) {
        value.apply_merge().map_err(bad)?;
        ConfigFile::deserialize(value).map_err(bad)?
    } else {
        yaml_serde::from_str(&text).map_err(bad)?
    };
    // Values that parse but cannot be used (an exclude glob, an ignore pattern, a mirror
    // URL, a registry key or CA bundle) are refused here, naming the file (the same
    // message could come from a flag) — by every command, `check` too, which never
    // builds registry settings.
    let named = |e: String| format!("{}: {e}", path.display());
    file.scan_settings(&parent_dir(path)).map_err(named)?;
    let mut routing = Routing::default();
    for (registry, url) in &file.mirrors {
        registry_key("mirrors", registry).map_err(named)?;
        routing.add(registry, url).map_err(named)?;
    }
    file.check_registries(&parent_dir(path)).map_err(named)?;
    Ok(file)
}

/// A key of `registries:` or `mirrors:` names a registry as references do: its host
/// (and port) — not empty, not a URL.
fn registry_key(section: &str, key: &str) -> Result<(), String> {
    if key.trim().is_empty() {
        return Err(format!(
            "{section}: an empty key; a registry is named by its host (and port), as references name it"
        ));
    }
    if key.contains("://") || key.contains('/') {
        return Err(format!(
            "{section}.{key}: a registry is named by its host (and port), as references name it: `{}`",
            key.split_once("://")
                .map_or(key, |(_, h)| h)
                .trim_end_matches('/')
        ));
    }
    Ok(())
}

/// A `registries.HOST.ca` bundle must hold PEM certificates that parse as X.509: one
/// that does not is found here, naming the file and the host, not in a TLS handshake.
fn check_ca_bundle(host: &str, path: &Path) -> Result<(), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let what = || format!("registries.{host}.ca: {}", path.display());
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", what()))?;
    let mut roots = rustls::RootCertStore::empty();
    let mut count = 0;
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let cert = cert.map_err(|e| format!("{}: not a PEM certificate bundle ({e})", what()))?;
        roots.add(cert).map_err(|e| {
            format!(
                "{}: certificate {} is not a valid X.509 certificate ({e}); {host} cannot be trusted with it",
                what(),
                i + 1
            )
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(format!("{}: no PEM certificates in it", what()));
    }
    Ok(())
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn has_merge_key(v: &yaml_serde::Value) -> bool {
    match v {
        yaml_serde::Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.as_str() == Some("<<") || has_merge_key(v)),
        yaml_serde::Value::Sequence(s) => s.iter().any(has_merge_key),
        yaml_serde::Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
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
            changed: None,
            found_config: None,
        })
    }

    /// Every `registries:` entry checked: a key that is a host, not a URL; `ca` and
    /// `insecure` not both; a CA bundle (relative to `dir`, the config's directory)
    /// that holds certificates.
    fn check_registries(&self, dir: &Path) -> Result<(), String> {
        for (host, r) in &self.registries {
            registry_key("registries", host)?;
            if r.insecure && r.ca.is_some() {
                return Err(format!(
                    "registries.{host}: `ca` and `insecure: true` contradict each other"
                ));
            }
            if let Some(ca) = &r.ca {
                check_ca_bundle(host, &dir.join(ca))?;
            }
        }
        Ok(())
    }

    /// The `registries:` entries as per-host settings (CA paths relative to `dir`, the
    /// config's directory), as [`read`] checked them.
    fn hosts(&self, dir: &Path) -> impl Iterator<Item = (&str, HostSettings)> {
        self.registries.iter().map(move |(host, r)| {
            (
                host.as_str(),
                HostSettings {
                    ca: r.ca.as_ref().map(|c| dir.join(c)),
                    insecure: r.insecure,
                },
            )
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
        let mut flag_mirrors = Vec::new();
        for spec in mirror_specs {
            routing.add_spec(spec)?;
            if let Some((registry, _)) = spec.split_once('=') {
                flag_mirrors.push(canonical_registry(registry.trim()));
            }
        }
        for (host, settings) in self.hosts(dir) {
            routing.set_host(host, settings);
        }
        if !(1..=256).contains(&concurrency) {
            return Err("--concurrency must be between 1 and 256".into());
        }
        if timeout_secs == 0 {
            return Err("--timeout must be at least 1 second".into());
        }
        Ok(RegistrySettings {
            routing,
            flag_mirrors,
            config_mirrors: self.mirrors.keys().map(|r| canonical_registry(r)).collect(),
            config_registries: self
                .registries
                .keys()
                .map(|h| canonical_registry(h))
                .collect(),
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
            column_utf16: 1,
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
