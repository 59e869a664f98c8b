//! The lock: a record of what references resolved to, for deploys that must pin many
//! renders identically. `--lock FILE` writes the resolutions a run used (each reference
//! as written → its registry, repository, tag, digest, media type, platform and when it
//! was resolved) as JSON; `--from-lock FILE` answers lookups from such a record
//! instead of a registry — offline, each reference it lacks failing like a lookup that
//! found nothing. It is a resolver in front of the registry: it hands out the same
//! [`Resolutions`] a registry session does, so everything after lookups (planning,
//! rewriting, proving, reporting) is the same.
//!
//! ```json
//! {
//!   "version": 1,
//!   "generated_by": "imagepin 0.1.0",
//!   "references": {
//!     "nginx:1.25": {
//!       "registry": "docker.io",
//!       "repository": "library/nginx",
//!       "tag": "1.25",
//!       "digest": "sha256:…",
//!       "media_type": "application/vnd.oci.image.index.v1+json",
//!       "platform": null,
//!       "resolved_at": "2026-11-28T09:14:03Z"
//!     }
//!   }
//! }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::reference::Reference;
use crate::registry::platform::Platform;
use crate::registry::{RegistryError, Resolutions, Resolved, Target};
use crate::rewrite;

/// The one version of the format so far.
const VERSION: u32 = 1;

/// The file as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default)]
    generated_by: Option<String>,
    /// By reference as written, sorted, so a lock diffs well in review.
    references: BTreeMap<String, Entry>,
}

/// What one reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    registry: String,
    repository: String,
    tag: String,
    digest: String,
    #[serde(default)]
    media_type: Option<String>,
    /// The platform pinned with `--platform`; `null` for the tag's own manifest (the
    /// index of a multi-arch tag).
    #[serde(default)]
    platform: Option<String>,
    resolved_at: String,
}

/// A lock read for `--from-lock`: answers by what is looked up.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    answers: HashMap<Target, Entry>,
}

impl Lock {
    /// Read and check a lock: its version, every digest, and that each entry's fields
    /// are what its reference says (a hand edit that disagrees is refused, as are two
    /// spellings of one image with different digests).
    pub fn load(path: &Path) -> Result<Lock, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--from-lock {shown}: cannot read: {e}"))?;
        let file: LockFile = serde_json::from_str(&text)
            .map_err(|e| format!("--from-lock {shown}: not an imagepin lock: {e}"))?;
        if file.version != VERSION {
            return Err(format!(
                "--from-lock {shown}: lock version {} is not one this imagepin reads ({VERSION})",
                file.version
            ));
        }
        let mut answers: HashMap<Target, (String, Entry)> = HashMap::new();
        for (written, entry) in file.references {
            let bad = |why: String| format!("--from-lock {shown}: {written:?}: {why}");
            let r = Reference::parse(&written).map_err(|e| bad(e.to_string()))?;
            let tag = r
                .effective_tag()
                .ok_or_else(|| bad("a digest-only reference is never looked up".into()))?;
            if (r.registry.as_str(), r.repository.as_str(), tag)
                != (&entry.registry, &entry.repository, &entry.tag)
            {
                return Err(bad(format!(
                    "is {}/{}:{tag}, but the entry says {}/{}:{}",
                    r.registry, r.repository, entry.registry, entry.repository, entry.tag
                )));
            }
            if !is_digest(&entry.digest) {
                return Err(bad(format!("{:?} is not a digest", entry.digest)));
            }
            if let Some(p) = &entry.platform {
                Platform::parse(p).map_err(bad)?;
            }
            let target = Target {
                registry: entry.registry.clone(),
                repository: entry.repository.clone(),
                reference: entry.tag.clone(),
            };
            if let Some((other, seen)) = answers.get(&target)
                && (seen.digest != entry.digest || seen.platform != entry.platform)
            {
                return Err(bad(format!(
                    "names the same image as {other:?}, with another digest or platform"
                )));
            }
            answers.insert(target, (written, entry));
        }
        Ok(Lock {
            path: path.to_path_buf(),
            answers: answers.into_iter().map(|(t, (_, e))| (t, e)).collect(),
        })
    }

    /// Answer each target from the lock, telling `answered` about each. With
    /// `platform`, only entries pinned for that platform answer; without, only the
    /// tags' own manifests.
    pub fn resolve_each(
        &self,
        targets: impl IntoIterator<Item = Target>,
        platform: Option<&Platform>,
        answered: &mut dyn FnMut(&Target, &Result<Resolved, RegistryError>),
    ) -> Resolutions {
        let wanted = platform.map(Platform::to_string);
        let mut out = Resolutions::new();
        for target in targets {
            if out.contains_key(&target) {
                continue;
            }
            let result = self.answer(&target, wanted.as_deref());
            answered(&target, &result);
            out.insert(target, result);
        }
        out
    }

    fn answer(&self, target: &Target, platform: Option<&str>) -> Result<Resolved, RegistryError> {
        let missing = |what: String| RegistryError::Protocol {
            registry: target.registry.clone(),
            message: format!(
                "{}:{} {what} in the lock {} (resolve it without --from-lock, recording with --lock)",
                target.repository,
                target.reference,
                self.path.display()
            ),
        };
        let entry = self
            .answers
            .get(target)
            .ok_or_else(|| missing("is not".into()))?;
        // `linux/arm64` and `linux/arm64/v8` name one platform: compared as `--platform`
        // matches an index entry (a missing variant matches any).
        let same = match (entry.platform.as_deref(), platform) {
            (None, None) => true,
            (Some(held), Some(asked)) => match (Platform::parse(held), Platform::parse(asked)) {
                (Ok(held), Ok(asked)) => held.matches(&asked),
                _ => held == asked,
            },
            _ => false,
        };
        if !same {
            let held = |p: Option<&str>| match p {
                Some(p) => format!("for {p}"),
                None => "as the tag's own manifest".to_string(),
            };
            return Err(missing(format!(
                "is held {}, not {},",
                held(entry.platform.as_deref()),
                held(platform)
            )));
        }
        Ok(Resolved {
            digest: entry.digest.clone(),
            media_type: entry.media_type.clone(),
        })
    }
}

/// `algorithm:hex`, as registries name content (sha256 and sha512).
fn is_digest(text: &str) -> bool {
    let hex_of = |hex: &str, len: usize| {
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match text.split_once(':') {
        Some(("sha256", hex)) => hex_of(hex, 64),
        Some(("sha512", hex)) => hex_of(hex, 128),
        _ => false,
    }
}

/// The resolutions a run used, for `--lock FILE`.
#[derive(Debug)]
pub struct Record {
    references: BTreeMap<String, Entry>,
    platform: Option<String>,
    resolved_at: String,
}

impl Record {
    /// A record of lookups made now, for `platform` (`--platform`), if any.
    pub fn new(platform: Option<&Platform>) -> Record {
        Record {
            references: BTreeMap::new(),
            platform: platform.map(Platform::to_string),
            resolved_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }

    /// `written` (the reference as written) was pinned from `target`'s answer.
    pub fn add(&mut self, written: &str, target: &Target, resolved: &Resolved) {
        self.references.insert(
            written.to_string(),
            Entry {
                registry: target.registry.clone(),
                repository: target.repository.clone(),
                tag: target.reference.clone(),
                digest: resolved.digest.clone(),
                media_type: resolved.media_type.clone(),
                platform: self.platform.clone(),
                resolved_at: self.resolved_at.clone(),
            },
        );
    }

    pub fn len(&self) -> usize {
        self.references.len()
    }

    pub fn is_empty(&self) -> bool {
        self.references.is_empty()
    }

    /// Write the record to `path`, atomically: a reader never sees half a lock.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let file = LockFile {
            version: VERSION,
            generated_by: Some(concat!("imagepin ", env!("CARGO_PKG_VERSION")).to_string()),
            references: self.references.clone(),
        };
        let fail =
            |e: &dyn std::fmt::Display| format!("--lock {}: not written: {e}", path.display());
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| fail(&e))?;
        json.push(b'\n');
        rewrite::write_new(path, &json).map_err(|e| fail(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn target(registry: &str, repository: &str, tag: &str) -> Target {
        Target {
            registry: registry.into(),
            repository: repository.into(),
            reference: tag.into(),
        }
    }

    fn round_trip(record: &Record) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imagepin.lock.json");
        record.write(&path).unwrap();
        (dir, path)
    }

    #[test]
    fn a_record_answers_what_it_holds_and_nothing_else() {
        let nginx = target("docker.io", "library/nginx", "1.25");
        let mut record = Record::new(None);
        let resolved = Resolved {
            digest: digest('a'),
            media_type: Some("application/vnd.oci.image.index.v1+json".into()),
        };
        record.add("nginx:1.25", &nginx, &resolved);
        // Another spelling of the same image: one answer.
        record.add("docker.io/library/nginx:1.25", &nginx, &resolved);
        let (_dir, path) = round_trip(&record);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"nginx:1.25\""), "{text}");
        assert!(text.contains("\"resolved_at\""), "{text}");

        let lock = Lock::load(&path).unwrap();
        let redis = target("docker.io", "library/redis", "7");
        let mut told = Vec::new();
        let answers = lock.resolve_each(
            [nginx.clone(), redis.clone(), nginx.clone()],
            None,
            &mut |t, r| told.push((t.clone(), r.is_ok())),
        );
        assert_eq!(answers[&nginx].as_ref().unwrap(), &resolved);
        let err = answers[&redis].as_ref().unwrap_err().to_string();
        assert!(err.contains("library/redis:7 is not in the lock"), "{err}");
        assert_eq!(told, [(nginx.clone(), true), (redis, false)]);

        // A lock made without --platform does not answer for a platform.
        let arm = Platform::parse("linux/arm64").unwrap();
        let answers = lock.resolve_each([nginx.clone()], Some(&arm), &mut |_, _| {});
        let err = answers[&nginx].as_ref().unwrap_err().to_string();
        assert!(err.contains("not for linux/arm64"), "{err}");
    }

    #[test]
    fn platform_records_answer_only_for_their_platform() {
        let arm = Platform::parse("linux/arm64").unwrap();
        let nginx = target("docker.io", "library/nginx", "latest");
        let mut record = Record::new(Some(&arm));
        let resolved = Resolved {
            digest: digest('b'),
            media_type: None,
        };
        record.add("nginx", &nginx, &resolved);
        let (_dir, path) = round_trip(&record);
        let lock = Lock::load(&path).unwrap();
        let ok = lock.resolve_each([nginx.clone()], Some(&arm), &mut |_, _| {});
        assert_eq!(ok[&nginx].as_ref().unwrap(), &resolved);
        let index = lock.resolve_each([nginx.clone()], None, &mut |_, _| {});
        let err = index[&nginx].as_ref().unwrap_err().to_string();
        assert!(err.contains("held for linux/arm64"), "{err}");
        // The same platform spelt with its variant is the same platform; another is not.
        let v8 = Platform::parse("linux/arm64/v8").unwrap();
        let ok = lock.resolve_each([nginx.clone()], Some(&v8), &mut |_, _| {});
        assert_eq!(ok[&nginx].as_ref().unwrap(), &resolved);
        let amd = Platform::parse("linux/amd64").unwrap();
        let other = lock.resolve_each([nginx.clone()], Some(&amd), &mut |_, _| {});
        assert!(other[&nginx].is_err());
    }

    #[test]
    fn hand_edits_that_disagree_are_refused_naming_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.json");
        let entry = |reference: &str, repository: &str, d: &str| {
            format!(
                r#""{reference}": {{"registry": "docker.io", "repository": "{repository}", "tag": "7", "digest": "{d}", "resolved_at": "x"}}"#
            )
        };
        let cases = [
            (
                entry("redis:7", "library/nginx", &digest('a')),
                "but the entry says",
            ),
            (
                entry("redis:7", "library/redis", "sha256:abc"),
                "is not a digest",
            ),
            (
                format!(
                    "{}, {}",
                    entry("redis:7", "library/redis", &digest('a')),
                    entry("docker.io/library/redis:7", "library/redis", &digest('b'))
                ),
                "names the same image",
            ),
        ];
        for (entries, why) in cases {
            std::fs::write(
                &path,
                format!(r#"{{"version": 1, "references": {{{entries}}}}}"#),
            )
            .unwrap();
            let err = Lock::load(&path).unwrap_err();
            assert!(err.contains(why) && err.contains("l.json"), "{why}: {err}");
        }
        std::fs::write(&path, r#"{"version": 2, "references": {}}"#).unwrap();
        assert!(Lock::load(&path).unwrap_err().contains("lock version 2"));
        std::fs::write(&path, r#"{"version": 1, "refs": {}}"#).unwrap();
        assert!(Lock::load(&path).unwrap_err().contains("refs"));
    }
}
