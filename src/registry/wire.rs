//! What travels on the wire and what a failure means: header access, digest checks,
//! bounded body reads, backoff and `Retry-After`, and the error texts that tell the user
//! what went wrong (DNS, TLS, timeouts, 404s) — shared by the client's calls.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use sha2::{Digest as _, Sha256};

use super::{Endpoint, MANIFEST_TYPES, RegistryError};

/// Attempts per request before giving up (first try included).
pub(super) const MAX_ATTEMPTS: u32 = 4;
/// Longest wait imagepin accepts from `Retry-After` or backoff.
pub(super) const MAX_WAIT: Duration = Duration::from_secs(60);
/// Largest body read (a manifest, an image config, a token answer).
pub(super) const MAX_BODY_BYTES: usize = 4 << 20;

/// An answer with its body read (empty for `HEAD`s and failures).
pub(super) struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<String> {
        header_value(&self.headers, name)
    }
}

/// Read a body of at most `limit` bytes; `Ok(None)` when it is larger.
pub(super) async fn read_body(
    mut resp: Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

pub(super) fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// The media type of a manifest body, which must be one of the types asked for: from
/// its `Content-Type`, or else from the JSON itself (`mediaType`, or, for OCI documents
/// that leave it out, `schemaVersion` 2 with `manifests` or `config`). `Err` says what
/// came back instead.
pub(super) fn manifest_media_type(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<String, String> {
    let declared = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if let Some(t) = &declared
        && MANIFEST_TYPES.contains(&t.as_str())
    {
        return Ok(t.clone());
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        schema_version: Option<u64>,
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
        config: Option<serde::de::IgnoredAny>,
    }
    let said = serde_json::from_slice::<Shape>(body)
        .ok()
        .and_then(|shape| match (shape.schema_version, shape.media_type) {
            (Some(2), Some(t)) => MANIFEST_TYPES.contains(&t.as_str()).then_some(t),
            (Some(2), None) if shape.manifests.is_some() => Some(MANIFEST_TYPES[0].to_string()),
            (Some(2), None) if shape.config.is_some() => Some(MANIFEST_TYPES[1].to_string()),
            _ => None,
        });
    said.ok_or_else(|| {
        let what = match &declared {
            Some(t) if !t.is_empty() => format!("Content-Type {t}"),
            _ => "no Content-Type".to_string(),
        };
        format!("{what} ({} bytes)", body.len())
    })
}

/// A URL for logs: query strings (token scopes) kept, any userinfo dropped.
pub(super) fn redacted_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

pub(super) fn with_auth(req: RequestBuilder, authorization: Option<&str>) -> RequestBuilder {
    match authorization {
        Some(a) => req.header(AUTHORIZATION, a),
        None => req,
    }
}

pub(super) fn header(resp: &Response, name: &str) -> Option<String> {
    header_value(resp.headers(), name)
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// `Retry-After`: seconds, or an HTTP date (how long until then; a date passed is no
/// wait). Capped by the caller.
pub(super) fn retry_after(resp: &Response) -> Option<Duration> {
    retry_after_value(
        &header(resp, RETRY_AFTER.as_str())?,
        std::time::SystemTime::now(),
    )
}

fn retry_after_value(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// 250 ms, 500 ms, 1 s … with up to 50 % jitter.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 250u64 << attempt.saturating_sub(1).min(8);
    let jitter = fastrand::u64(0..=base / 2);
    Duration::from_millis(base + jitter).min(MAX_WAIT)
}

/// Only `sha256:` + 64 lowercase hex (or sha512: + 128) is written into files.
pub fn validate_digest(digest: &str) -> Result<(), String> {
    let ok = |hex: &str, len: usize| {
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = match digest.split_once(':') {
        Some(("sha256", hex)) => ok(hex, 64),
        Some(("sha512", hex)) => ok(hex, 128),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "registry sent a malformed or unsupported digest {digest:?}"
        ))
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn status_error(
    ep: &Endpoint,
    repository: &str,
    reference: &str,
    status: StatusCode,
    url: &str,
) -> RegistryError {
    match status {
        StatusCode::NOT_FOUND => RegistryError::NotFound {
            registry: ep.label(),
            what: format!("{repository}:{reference}"),
        },
        StatusCode::TOO_MANY_REQUESTS => RegistryError::RateLimited {
            registry: ep.label(),
            attempts: MAX_ATTEMPTS,
        },
        s => RegistryError::Status {
            registry: ep.label(),
            status: s.as_u16(),
            url: url.to_string(),
        },
    }
}

pub(super) fn protocol(ep: &Endpoint, message: String) -> RegistryError {
    RegistryError::Protocol {
        registry: ep.label(),
        message,
    }
}

pub(super) fn network(ep: &Endpoint, e: &reqwest::Error) -> RegistryError {
    let causes = chain(e);
    let lower = causes.to_ascii_lowercase();
    let host = ep.credential_host();
    let what = if lower.contains("dns error") {
        // The name looked up: the URL's host (Docker Hub's API is on registry-1.docker.io).
        let name = e.url().and_then(|u| u.host_str()).unwrap_or(&host);
        format!("cannot resolve the host name {name} (DNS)")
    } else if answers_without_tls(&lower) {
        format!(
            "{host} does not speak TLS: it probably speaks plain HTTP; use an http:// URL for a mirror, or `registries: {{\"{host}\": {{insecure: true}}}}` in .imagepin.yaml"
        )
    } else if lower.contains("certificate") || lower.contains("tls") {
        format!(
            "TLS handshake with {host} failed; for a private CA, `registries: {{\"{host}\": {{ca: FILE}}}}` in .imagepin.yaml names it (if one is named, it did not sign this server's certificate)"
        )
    } else if e.is_timeout() {
        format!("timed out talking to {host}")
    } else if e.is_connect() {
        format!("cannot connect to {host}")
    } else {
        format!("request to {host} failed")
    };
    RegistryError::Network {
        registry: ep.label(),
        message: format!("{what} ({}): {causes}", ep.base),
    }
}

/// DNS and certificate failures do not go away by asking again, nor does a server that
/// answers a TLS handshake with something else.
pub(super) fn is_permanent(e: &reqwest::Error) -> bool {
    let lower = chain(e).to_ascii_lowercase();
    lower.contains("dns error") || lower.contains("certificate") || answers_without_tls(&lower)
}

/// rustls's word for a TLS handshake answered with bytes that are no TLS record (a
/// plain HTTP server's `HTTP/1.1 400`): `received corrupt message of type
/// InvalidContentType`. `lower`: the error chain in lower case.
fn answers_without_tls(lower: &str) -> bool {
    lower.contains("corrupt message of type invalidcontenttype")
}

/// An error with its causes, so TLS and DNS failures say what they are. URLs are left
/// out: they are already named, and a token URL is not worth repeating.
pub(super) fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked() {
        assert!(validate_digest(&format!("sha256:{}", "0".repeat(64))).is_ok());
        assert!(validate_digest(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(validate_digest(&format!("md5:{}", "0".repeat(32))).is_err());
        assert!(validate_digest("sha256:abc").is_err());
        assert!(validate_digest("sha256:../../etc").is_err());
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after_value("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            retry_after_value(&later, now),
            Some(Duration::from_secs(12))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(retry_after_value(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after_value("soon", now), None);
    }

    #[test]
    fn only_manifests_are_trusted() {
        let oci = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}}"#;
        assert_eq!(
            manifest_media_type(
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                b"{}"
            ),
            Ok("application/vnd.oci.image.index.v1+json".into())
        );
        // JSON that says what it is, under a generic or missing Content-Type.
        assert_eq!(
            manifest_media_type(Some("application/json"), oci.as_bytes()),
            Ok("application/vnd.oci.image.manifest.v1+json".into())
        );
        assert_eq!(
            manifest_media_type(None, br#"{"schemaVersion":2,"manifests":[]}"#),
            Ok("application/vnd.oci.image.index.v1+json".into())
        );
        let html = b"<!DOCTYPE html><title>Sign in</title>";
        assert_eq!(
            manifest_media_type(Some("text/html; charset=utf-8"), html),
            Err("Content-Type text/html (37 bytes)".into())
        );
        assert_eq!(
            manifest_media_type(None, b"{}"),
            Err("no Content-Type (2 bytes)".into())
        );
        // Schema 1 and unknown media types were not asked for.
        assert!(manifest_media_type(Some("application/json"), br#"{"schemaVersion":1}"#).is_err());
        assert!(
            manifest_media_type(
                None,
                br#"{"schemaVersion":2,"mediaType":"text/plain","config":{}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_millis(250));
        assert!(backoff(1) <= Duration::from_millis(375));
        assert!(backoff(3) >= Duration::from_secs(1));
        assert!(backoff(30) <= MAX_WAIT);
    }
}
