//! Image references: the grammar of `distribution/reference` (what `docker pull`
//! accepts), with Docker Hub normalisation, keeping where each part sits in the text.
//! Hand-written because `oci-spec`'s parser defaults the tag while parsing (losing "no
//! tag was written", which decides whether `fix` inserts `:latest`) and rejects IPv6
//! hosts. The normalised name is only ever used to talk to registries; it is never
//! written back into a file.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path          (at most 255 characters)
//! domain     := host [ ":" port ]            host: domain-name | IPv4 | "[" IPv6 "]"
//! path       := component ( "/" component )* component: [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [\w][\w.-]{0,127}
//! digest     := algorithm ":" hex           algorithm: [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! ```

use std::ops::Range;

/// Longest name (domain and path, as written).
const NAME_MAX: usize = 255;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Normalised registry host[:port]: `docker.io` for Docker Hub names (also when
    /// written `index.docker.io`), else as written (`ghcr.io`, `localhost:5000`).
    pub registry: String,
    /// Normalised repository path within the registry: `library/nginx` for `nginx`.
    pub repository: String,
    /// The tag as written; `None` when absent (never defaulted to `latest`).
    pub tag: Option<String>,
    /// The digest as written (`sha256:…`); `None` when absent.
    pub digest: Option<String>,
    /// Byte offset in the text where the name ends.
    pub name_end: usize,
    /// Span of the tag (without `:`) in the text.
    pub tag_span: Option<Range<usize>>,
    /// Span of the digest (without `@`) in the text.
    pub digest_span: Option<Range<usize>>,
}

/// Why text is not a valid reference; messages follow distribution's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("repository name must have at least one component")]
    Empty,
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name must be lowercase")]
    Uppercase,
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    #[error("invalid reference format: invalid tag")]
    InvalidTag,
    #[error("invalid reference format: invalid digest")]
    InvalidDigest,
    #[error("unsupported digest algorithm")]
    UnsupportedDigest,
    #[error("invalid checksum digest length")]
    DigestLength,
    #[error("invalid repository name, cannot specify 64-byte hexadecimal strings")]
    HexIdentifier,
}

impl Reference {
    /// Parse reference text exactly as written (no surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ReferenceError::HexIdentifier);
        }
        let (before_digest, digest_span) = match text.find('@') {
            Some(at) => (&text[..at], Some(at + 1..text.len())),
            None => (text, None),
        };
        let last_slash = before_digest.rfind('/').map_or(0, |i| i + 1);
        let (name_end, tag_span) = match before_digest[last_slash..].rfind(':') {
            Some(i) => (
                last_slash + i,
                Some(last_slash + i + 1..before_digest.len()),
            ),
            None => (before_digest.len(), None),
        };
        let name = &text[..name_end];
        if name.is_empty() {
            return Err(ReferenceError::InvalidFormat);
        }
        if let Some(span) = &tag_span
            && !valid_tag(&text[span.clone()])
        {
            return Err(ReferenceError::InvalidTag);
        }
        if let Some(span) = &digest_span {
            validate_digest(&text[span.clone()])?;
        }
        let (domain, path) = split_domain(name);
        if let Some(domain) = domain
            && !valid_domain(domain)
        {
            return Err(ReferenceError::InvalidFormat);
        }
        validate_path(path)?;
        if name.len() > NAME_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let registry = match domain {
            None => "docker.io".to_string(),
            Some(d) if d.eq_ignore_ascii_case("index.docker.io") || d == "docker.io" => {
                "docker.io".to_string()
            }
            Some(d) => d.to_string(),
        };
        let repository = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        Ok(Reference {
            registry,
            repository,
            tag: tag_span.clone().map(|s| text[s].to_string()),
            digest: digest_span.clone().map(|s| text[s].to_string()),
            name_end,
            tag_span,
            digest_span,
        })
    }

    /// `docker.io/library/nginx`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag to resolve: the tag, or `latest` when neither tag nor digest was written.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }
}

/// Split a name into (domain, path) the way Docker does: the first component is a
/// registry only if it contains `.` or `:`, is `localhost`, or has upper case.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or(ReferenceError::InvalidDigest)?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['-', '_', '+', '.']).all(|part| {
            let b = part.as_bytes();
            !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
        });
    if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ReferenceError::InvalidDigest);
    }
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::UnsupportedDigest),
    };
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::InvalidDigest);
    }
    if hex.len() != expected {
        return Err(ReferenceError::DigestLength);
    }
    Ok(())
}

/// host[:port], host being a domain name, an IPv4 address or a bracketed IPv6 address.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("ipv6", port),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, p),
            None => (domain, ""),
        }
    };
    if domain.contains(':') && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if host == "ipv6" && domain.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

fn validate_path(path: &str) -> Result<(), ReferenceError> {
    if path.split('/').all(valid_component) {
        return Ok(());
    }
    if path.to_ascii_lowercase().split('/').all(valid_component) {
        return Err(ReferenceError::Uppercase);
    }
    Err(ReferenceError::InvalidFormat)
}

/// `[a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn ok(text: &str) -> Reference {
        Reference::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> ReferenceError {
        Reference::parse(text).expect_err(text)
    }

    /// Cases in the spirit of distribution/reference's reference_test.go and
    /// normalize_test.go tables (expressed as our own table):
    /// (input, registry, repository, tag, digest).
    #[test]
    fn valid_references_normalise_like_docker() {
        let cases: &[(&str, &str, &str, Option<&str>, bool)] = &[
            ("test_com", "docker.io", "library/test_com", None, false),
            (
                "test.com:tag",
                "docker.io",
                "library/test.com",
                Some("tag"),
                false,
            ),
            (
                "test.com:5000",
                "docker.io",
                "library/test.com",
                Some("5000"),
                false,
            ),
            ("test.com/repo:tag", "test.com", "repo", Some("tag"), false),
            ("test:5000/repo", "test:5000", "repo", None, false),
            (
                "test:5000/repo:tag",
                "test:5000",
                "repo",
                Some("tag"),
                false,
            ),
            (
                "lowercase:Uppercase",
                "docker.io",
                "library/lowercase",
                Some("Uppercase"),
                false,
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux",
                "sub-dom1.foo.com",
                "bar/baz/quux",
                None,
                false,
            ),
            ("a/a/a/a", "docker.io", "a/a/a/a", None, false),
            (
                "foo_bar.com:8080",
                "docker.io",
                "library/foo_bar.com",
                Some("8080"),
                false,
            ),
            (
                "foo/foo_bar.com:8080",
                "docker.io",
                "foo/foo_bar.com",
                Some("8080"),
                false,
            ),
            ("localhost/app", "localhost", "app", None, false),
            (
                "localhost:5000/app:v1",
                "localhost:5000",
                "app",
                Some("v1"),
                false,
            ),
            (
                "[2001:db8::1]:5000/repo",
                "[2001:db8::1]:5000",
                "repo",
                None,
                false,
            ),
            (
                "[2001:db8::1]/repo:tag",
                "[2001:db8::1]",
                "repo",
                Some("tag"),
                false,
            ),
            ("[::1]:5000/app:v1", "[::1]:5000", "app", Some("v1"), false),
            ("Foo.com/bar", "Foo.com", "bar", None, false),
            (
                "Uppercase/lowercase:tag",
                "Uppercase",
                "lowercase",
                Some("tag"),
                false,
            ),
            (
                "index.docker.io/nginx",
                "docker.io",
                "library/nginx",
                None,
                false,
            ),
            (
                "docker.io/library/nginx:1.25",
                "docker.io",
                "library/nginx",
                Some("1.25"),
                false,
            ),
            (
                "ghcr.io/org/app:v1",
                "ghcr.io",
                "org/app",
                Some("v1"),
                false,
            ),
            (
                "a.b/c__d/e---f/g.h_i:x",
                "a.b",
                "c__d/e---f/g.h_i",
                Some("x"),
                false,
            ),
            ("192.168.1.1:5000/x", "192.168.1.1:5000", "x", None, false),
            ("xn--n3h.com/myimage", "xn--n3h.com", "myimage", None, false),
        ];
        for &(text, registry, repository, tag, _) in cases {
            let r = ok(text);
            assert_eq!(r.registry, registry, "{text}");
            assert_eq!(r.repository, repository, "{text}");
            assert_eq!(r.tag.as_deref(), tag, "{text}");
            assert_eq!(r.digest, None, "{text}");
        }
        let r = ok(&format!("test:5000/repo@{D}"));
        assert_eq!((r.registry.as_str(), r.tag.as_deref()), ("test:5000", None));
        assert_eq!(r.digest.as_deref(), Some(D));
    }

    #[test]
    fn invalid_references_say_why() {
        use ReferenceError::*;
        let long = format!("{}a", "a/".repeat(128));
        let cases: Vec<(String, ReferenceError)> = vec![
            ("".into(), Empty),
            (":justtag".into(), InvalidFormat),
            (format!("@{D}"), InvalidFormat),
            ("repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff".into(), DigestLength),
            ("validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff".into(), UnsupportedDigest),
            ("validname@sha256:abc".into(), InvalidDigest),
            ("Uppercase:tag".into(), Uppercase),
            ("test:5000/Uppercase/lowercase:tag".into(), Uppercase),
            ("foo/Bar".into(), Uppercase),
            ("aa/asdf$$^/aa".into(), InvalidFormat),
            (long, NameTooLong),
            (format!("repo:{}", "a".repeat(129)), InvalidTag),
            ("repo:.tag".into(), InvalidTag),
            ("repo:-tag".into(), InvalidTag),
            ("[fe80::1%eth0]:5000/repo".into(), InvalidFormat),
            ("[fe80::1%@invalidzone]:5000/repo".into(), InvalidTag),
            ("a b".into(), InvalidFormat),
            (" nginx".into(), InvalidFormat),
            ("nginx ".into(), InvalidFormat),
            ("-foo/bar".into(), InvalidFormat),
            ("foo/-bar".into(), InvalidFormat),
            ("foo/bar-".into(), InvalidFormat),
            ("foo/bar..baz".into(), InvalidFormat),
            ("foo/bar___baz".into(), InvalidFormat),
            ("foo//bar".into(), InvalidFormat),
            ("https://example.com/x".into(), InvalidFormat),
            ("test:/repo".into(), InvalidFormat),
            ("a".repeat(64), HexIdentifier),
        ];
        for (text, want) in cases {
            assert_eq!(err(&text), want, "{text:?}");
        }
        assert!(
            err("Uppercase:tag")
                .to_string()
                .starts_with("invalid reference format")
        );
        // 63 hex characters is a fine name.
        assert!(Reference::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = format!("nginx:1.25@{D}");
        let r = ok(&text);
        assert_eq!(&text[..r.name_end], "nginx");
        assert_eq!(&text[r.tag_span.clone().unwrap()], "1.25");
        assert_eq!(&text[r.digest_span.clone().unwrap()], D);
        let r = ok("localhost:5000/app");
        assert_eq!((r.tag, r.name_end), (None, 18));
        let r = ok("[::1]:5000/app:v1");
        assert_eq!(&"[::1]:5000/app:v1"[r.tag_span.unwrap()], "v1");
    }

    #[test]
    fn effective_tag_is_latest_only_when_nothing_is_written() {
        assert_eq!(ok("nginx").effective_tag(), Some("latest"));
        assert_eq!(ok("nginx:1").effective_tag(), Some("1"));
        assert_eq!(ok(&format!("nginx@{D}")).effective_tag(), None);
        assert_eq!(ok(&format!("nginx:1@{D}")).effective_tag(), Some("1"));
        assert_eq!(ok("nginx").full_name(), "docker.io/library/nginx");
    }

    #[test]
    fn round_trips_every_combination() {
        let registries = [
            "",
            "ghcr.io/",
            "localhost:5000/",
            "[::1]:5000/",
            "index.docker.io/",
        ];
        let paths = ["nginx", "org/app", "a/b-c/d_e"];
        let tags = [None, Some("1.25"), Some("latest"), Some("v1.2.3-rc_1")];
        for registry in registries {
            for path in paths {
                for tag in tags {
                    for digest in [None, Some(D)] {
                        let mut text = format!("{registry}{path}");
                        if let Some(t) = tag {
                            text.push(':');
                            text.push_str(t);
                        }
                        if let Some(d) = digest {
                            text.push('@');
                            text.push_str(d);
                        }
                        let r = ok(&text);
                        assert_eq!(&text[..r.name_end], format!("{registry}{path}"));
                        assert_eq!(r.tag.as_deref(), tag, "{text}");
                        assert_eq!(r.digest.as_deref(), digest, "{text}");
                        assert_eq!(r.tag_span.map(|s| &text[s]), tag);
                        assert_eq!(r.digest_span.map(|s| &text[s]), digest);
                        let want_registry = match registry {
                            "" | "index.docker.io/" => "docker.io",
                            r => r.trim_end_matches('/'),
                        };
                        assert_eq!(r.registry, want_registry, "{text}");
                        let want_repo = if want_registry == "docker.io" && !path.contains('/') {
                            format!("library/{path}")
                        } else {
                            path.to_string()
                        };
                        assert_eq!(r.repository, want_repo, "{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn never_panics_on_prefixes() {
        for s in [
            "[::1]:5000/a:b@sha256:",
            "é/ü:ß@x:y",
            "a@@b::c//d",
            "[",
            "@",
            ":",
            "/",
        ] {
            for (i, _) in s.char_indices() {
                let _ = Reference::parse(&s[..i]);
            }
            let _ = Reference::parse(s);
        }
    }
}
