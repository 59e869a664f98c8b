//! Platforms and multi-arch indexes: which platform a single-platform manifest was
//! built for (from its image config), and which entry of an OCI index or Docker manifest
//! list matches a platform. Used by `--platform` pins and by `update`/`verify`, which
//! must keep a platform pin on the same platform when its tag moves.

use serde::Deserialize;

/// `os/architecture[/variant]`, e.g. `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `os/arch[/variant]`, in any case: read lowercase, as containerd reads it
    /// (`LINUX/ARM64` is `linux/arm64`).
    pub fn parse(text: &str) -> Result<Platform, String> {
        let lower = text.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        let bad = || format!("platform {text:?}: expected os/arch[/variant], e.g. linux/amd64");
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: arch.to_string(),
                    variant: Some(variant.to_string()),
                })
            }
            _ => Err(bad()),
        }
    }

    /// Whether an index entry's platform is this one. A missing variant on either side
    /// matches (registries often omit `v8` for arm64).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Whether a media type is a multi-platform index.
pub fn is_index(media_type: Option<&str>) -> bool {
    matches!(
        media_type.map(|m| m.split(';').next().unwrap_or("").trim()),
        Some(
            "application/vnd.oci.image.index.v1+json"
                | "application/vnd.docker.distribution.manifest.list.v2+json"
        )
    )
}

#[derive(Debug, Deserialize)]
struct IndexJson {
    #[serde(default)]
    manifests: Vec<EntryJson>,
}

#[derive(Debug, Deserialize)]
struct EntryJson {
    digest: String,
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    platform: Option<PlatformJson>,
}

#[derive(Debug, Deserialize)]
struct PlatformJson {
    os: String,
    architecture: String,
    variant: Option<String>,
}

impl From<PlatformJson> for Platform {
    fn from(p: PlatformJson) -> Platform {
        Platform {
            os: p.os,
            architecture: p.architecture,
            variant: p.variant,
        }
    }
}

/// One entry of an index: the manifest of one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub digest: String,
    pub media_type: Option<String>,
    pub platform: Platform,
}

/// Every entry of an index body that names a platform. Attestation entries (platform
/// `unknown/unknown`) are skipped.
pub fn index_entries(body: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let index: IndexJson =
        serde_json::from_slice(body).map_err(|e| format!("malformed index: {e}"))?;
    Ok(index
        .manifests
        .into_iter()
        .filter_map(|e| {
            Some(IndexEntry {
                digest: e.digest,
                media_type: e.media_type,
                platform: Platform::from(e.platform?),
            })
        })
        .filter(|e| e.platform.os != "unknown")
        .collect())
}

#[derive(Debug, Deserialize)]
struct ManifestJson {
    config: Option<ConfigRef>,
}

#[derive(Debug, Deserialize)]
struct ConfigRef {
    digest: String,
}

/// The config blob digest of a single-platform manifest body.
pub fn config_digest(body: &[u8]) -> Result<String, String> {
    let m: ManifestJson =
        serde_json::from_slice(body).map_err(|e| format!("malformed manifest: {e}"))?;
    m.config
        .map(|c| c.digest)
        .ok_or_else(|| "manifest has no config".to_string())
}

/// The platform an image config blob says it was built for.
pub fn config_platform(body: &[u8]) -> Result<Platform, String> {
    let p: PlatformJson =
        serde_json::from_slice(body).map_err(|e| format!("malformed image config: {e}"))?;
    Ok(p.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest of the entry for `platform` in an index body.
    fn pick(body: &[u8], platform: &Platform) -> Result<Option<String>, String> {
        Ok(index_entries(body)?
            .into_iter()
            .find(|e| platform.matches(&e.platform))
            .map(|e| e.digest))
    }

    #[test]
    fn parse_and_pick() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("LINUX/ARM64/V8").unwrap(), p);
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux//v8").is_err());
        let index = br#"{"manifests":[
            {"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
            {"digest":"sha256:b","platform":{"os":"linux","architecture":"arm64"}},
            {"digest":"sha256:c","platform":{"os":"unknown","architecture":"unknown"}}]}"#;
        assert_eq!(pick(index, &p).unwrap().as_deref(), Some("sha256:b"));
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(pick(index, &amd).unwrap().as_deref(), Some("sha256:a"));
        let s390 = Platform::parse("linux/s390x").unwrap();
        assert_eq!(pick(index, &s390).unwrap(), None);
        assert_eq!(index_entries(index).unwrap().len(), 2);
        assert!(pick(b"nope", &p).is_err());
        assert!(is_index(Some("application/vnd.oci.image.index.v1+json")));
        assert!(!is_index(Some(
            "application/vnd.oci.image.manifest.v1+json"
        )));
    }
}
