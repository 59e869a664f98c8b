//! Image references: the grammar of `github.com/distribution/reference` (what
//! `docker pull` accepts), normalised the way its `ParseNormalizedNamed` does, and keeping
//! the byte offset of every part so callers can splice a digest into the text exactly.
//!
//! Hand-written rather than taken from `oci-spec`: its `Reference` defaults the tag to
//! `latest` while parsing, losing "no tag was written" (which decides whether `fix` must
//! insert `:latest`), and it rejects IPv6 registry hosts such as `[::1]:5000`. The
//! normalised name is only used to talk to registries; it is never written into a file.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path
//! domain     := host [ ":" port ]             host: domain-name | IPv4 | "[" IPv6 "]"
//! domain-name:= component ( "." component )*  component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! port       := [0-9]+
//! path       := path-component ( "/" path-component )*   (normalised: at most 255 bytes)
//! path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [\w][\w.-]{0,127}
//! digest     := algorithm ":" hex             hex: [0-9a-fA-F]{32,}
//! algorithm  := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! ```
//!
//! Normalisation: the text before the first `/` is a registry only if it is `localhost`,
//! contains `.` or `:`, or has upper case; otherwise the registry is `docker.io`.
//! `index.docker.io` is `docker.io`, and a Docker Hub path of one component gets
//! `library/`. Known digest algorithms are `sha256`, `sha384` and `sha512` (lowercase hex
//! of 64, 96 and 128 digits); 64 lowercase hex digits alone are an image ID, not a name.
//!
//! Deliberate differences from upstream, all on text upstream treats oddly:
//! - A first component with a `.` that is not a valid host but is a valid path component
//!   (`my_reg.example/app`) is rejected; upstream accepts it with an *empty* domain, which
//!   no registry client can resolve.
//! - The length limit applies to the normalised repository path, as in
//!   distribution/reference v0.6+ (it used to include the domain).
//! - Upstream reports any grammar failure as "invalid reference format"; here a bad tag
//!   or a malformed digest gets its own error.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Registry of Docker Hub names, after normalisation.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Legacy spelling of Docker Hub, normalised to [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// Namespace of official Docker Hub images (`nginx` is `library/nginx`).
const OFFICIAL_PREFIX: &str = "library/";
/// The tag a reference with neither tag nor digest resolves.
const DEFAULT_TAG: &str = "latest";
/// Longest normalised repository path, in bytes.
const REPOSITORY_MAX: usize = 255;
/// Longest tag, in bytes.
const TAG_MAX: usize = 128;

/// A parsed image reference, normalised, with the spans of its parts in the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Normalised registry `host[:port]`: `docker.io` for Docker Hub names (also when
    /// written `index.docker.io`), else as written (e.g. `ghcr.io`, `localhost:5000`,
    /// `[::1]:5000`).
    pub registry: String,
    /// Normalised repository path within the registry: "library/nginx" for `nginx`.
    pub repository: String,
    /// The tag as written; None when absent (NOT defaulted to latest).
    pub tag: Option<String>,
    /// The digest as written, e.g. "sha256:abc…"; None when absent.
    pub digest: Option<String>,
    /// Byte offset in the original text where the name (registry+path) ends.
    pub name_end: usize,
    /// Span of the tag text (without the ':') in the original text.
    pub tag_span: Option<Range<usize>>,
    /// Span of the digest text (without the '@') in the original text.
    pub digest_span: Option<Range<usize>>,
}

/// Why text is not a valid image reference. Messages follow distribution/reference and
/// go-digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceError {
    /// The text is empty.
    Empty,
    /// The text does not follow the reference grammar.
    InvalidFormat,
    /// The repository path has upper-case letters.
    Uppercase,
    /// The normalised repository path is longer than 255 bytes.
    NameTooLong,
    /// The text after `:` is not a valid tag.
    InvalidTag,
    /// The text after `@` is not a well-formed digest, or its hex is not lowercase.
    InvalidDigest,
    /// The digest algorithm is well-formed but not sha256, sha384 or sha512.
    UnsupportedDigestAlgorithm,
    /// The digest's hex has the wrong length for its algorithm.
    InvalidDigestLength,
    /// The text is 64 lowercase hex digits: an image ID, not a name.
    HexIdentifier,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "repository name must have at least one component",
            Self::InvalidFormat => "invalid reference format",
            Self::Uppercase => "invalid reference format: repository name must be lowercase",
            Self::NameTooLong => "repository name must not be more than 255 characters",
            Self::InvalidTag => "invalid tag format",
            Self::InvalidDigest => "invalid checksum digest format",
            Self::UnsupportedDigestAlgorithm => "unsupported digest algorithm",
            Self::InvalidDigestLength => "invalid checksum digest length",
            Self::HexIdentifier => {
                "invalid repository name, cannot specify 64-byte hexadecimal strings"
            }
        })
    }
}

impl std::error::Error for ReferenceError {}

impl Reference {
    /// Parse and normalise `text`, which must be exactly one reference (no surrounding
    /// whitespace or quotes).
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if is_identifier(text) {
            return Err(ReferenceError::HexIdentifier);
        }

        // Registry: the text before the first '/', if it looks like a host.
        let mut written_registry = None;
        let mut path_start = 0;
        if let Some(slash) = text.find('/') {
            let first = &text[..slash];
            if looks_like_registry(first) {
                written_registry = Some(first);
                path_start = slash + 1;
            }
        }

        // Path: up to the first ':' (tag) or '@' (digest). Neither can occur in a path,
        // and a port's ':' sits before `path_start`.
        let rest = &text[path_start..];
        let name_end = path_start + rest.find([':', '@']).unwrap_or(rest.len());
        let path = &text[path_start..name_end];
        if has_uppercase(path) {
            return Err(ReferenceError::Uppercase);
        }
        if let Some(host) = written_registry.filter(|h| !is_domain(h)) {
            // Upstream lower-cases the whole text and, if that parses, blames case.
            let lower = host.to_lowercase();
            return Err(if lower != host && is_path_component(&lower) {
                ReferenceError::Uppercase
            } else {
                ReferenceError::InvalidFormat
            });
        }
        if !is_path(path) {
            return Err(ReferenceError::InvalidFormat);
        }

        // Tag: after ':' up to '@' or the end.
        let mut pos = name_end;
        let mut tag_span = None;
        if text[pos..].starts_with(':') {
            let start = pos + 1;
            let end = text[start..].find('@').map_or(text.len(), |i| start + i);
            if !is_tag(&text[start..end]) {
                return Err(ReferenceError::InvalidTag);
            }
            tag_span = Some(start..end);
            pos = end;
        }

        // Digest: after '@' to the end.
        let mut digest_span = None;
        if text[pos..].starts_with('@') {
            let start = pos + 1;
            if !is_digest_syntax(&text[start..]) {
                return Err(ReferenceError::InvalidDigest);
            }
            digest_span = Some(start..text.len());
            pos = text.len();
        }
        if pos != text.len() {
            // Unreachable by construction (the path stops only at ':', '@' or the end),
            // kept so a future edit cannot silently accept trailing text.
            return Err(ReferenceError::InvalidFormat);
        }

        let registry = match written_registry {
            None | Some(LEGACY_DEFAULT_REGISTRY) => DEFAULT_REGISTRY,
            Some(host) => host,
        };
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("{OFFICIAL_PREFIX}{path}")
        } else {
            path.to_string()
        };
        if repository.len() > REPOSITORY_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        if let Some(span) = &digest_span {
            check_digest_algorithm(&text[span.clone()])?;
        }

        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag: tag_span.clone().map(|s| text[s].to_string()),
            digest: digest_span.clone().map(|s| text[s].to_string()),
            name_end,
            tag_span,
            digest_span,
        })
    }

    /// The normalised name, registry and repository: "docker.io/library/nginx".
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag to resolve: the tag, or "latest" when neither tag nor digest was written;
    /// None for a digest-only reference (nothing to resolve).
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }
}

/// The normalised form: `docker.io/library/nginx:1.25@sha256:…` (tag and digest only
/// when written). For messages and registry calls, never for writing back into a file.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Exactly 64 lowercase hex digits: an image ID.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether the first `/`-separated component names a registry (splitDockerDomain).
fn looks_like_registry(first: &str) -> bool {
    first == "localhost" || first.contains(['.', ':']) || has_uppercase(first)
}

/// Whether lower-casing changes `s` (as Go's `strings.ToLower(s) != s`).
fn has_uppercase(s: &str) -> bool {
    s.chars().any(|c| c.to_lowercase().ne(std::iter::once(c)))
}

/// `host [":" port]`, host a domain name, IPv4 address or bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host_ok, rest) = if let Some(inner) = s.strip_prefix('[') {
        match inner.find(']') {
            Some(close) => {
                let addr = &inner[..close];
                let ok =
                    !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
                (ok, &inner[close + 1..])
            }
            None => return false,
        }
    } else {
        let end = s.find(':').unwrap_or(s.len());
        (s[..end].split('.').all(is_domain_component), &s[end..])
    };
    host_ok
        && (rest.is_empty()
            || rest
                .strip_prefix(':')
                .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())))
}

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        }
        _ => false,
    }
}

/// One or more path components separated by single `/`.
fn is_path(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*`.
fn is_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    let mut i = 0;
    loop {
        // An alphanumeric run.
        let run = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == run {
            return false;
        }
        if i == b.len() {
            return true;
        }
        // A separator, then another run must follow.
        let sep = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        match &b[sep..i] {
            b"." | b"_" | b"__" => {}
            dashes if dashes.iter().all(|&x| x == b'-') => {}
            _ => return false,
        }
    }
}

/// `[\w][\w.-]{0,127}` with ASCII `\w`.
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    match b.split_first() {
        Some((&first, rest)) => {
            b.len() <= TAG_MAX
                && word(first)
                && rest.iter().all(|&x| word(x) || x == b'.' || x == b'-')
        }
        None => false,
    }
}

/// `algorithm ":" [0-9a-fA-F]{32,}`, the syntax distribution/reference accepts.
fn is_digest_syntax(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    };
    algorithm.split(['-', '_', '+', '.']).all(component_ok)
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's validation of a syntactically valid digest: a known algorithm, and hex of
/// its length in lowercase.
fn check_digest_algorithm(d: &str) -> Result<(), ReferenceError> {
    let (algorithm, hex) = d.split_once(':').ok_or(ReferenceError::InvalidDigest)?;
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::UnsupportedDigestAlgorithm),
    };
    if hex.len() != want {
        return Err(ReferenceError::InvalidDigestLength);
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ReferenceError::InvalidDigest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The tables below are our own restatement of the cases in distribution/reference's
    //! `reference_test.go` (TestReferenceParse, TestWithNameFailure, TestDomainAndPath)
    //! and `normalize_test.go` (TestValidateReferenceName, TestValidateRemoteName,
    //! TestParseRepositoryInfo, TestNormalizedSplitHostname, TestParseAnyReference,
    //! TestParseReferenceWithTagAndDigest), re-expressed for a normalising parser:
    //! where upstream's `Parse` reports no domain, we expect `docker.io` and `library/`.
    //! Cases marked "ours" are additions.

    use super::*;
    use ReferenceError as E;

    const F64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn sha256(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    /// Expected fields of a valid reference.
    struct Want<'a> {
        registry: &'a str,
        repository: &'a str,
        tag: Option<&'a str>,
        digest: Option<&'a str>,
    }

    fn ok<'a>(registry: &'a str, repository: &'a str) -> Want<'a> {
        Want {
            registry,
            repository,
            tag: None,
            digest: None,
        }
    }

    impl<'a> Want<'a> {
        fn tag(mut self, t: &'a str) -> Self {
            self.tag = Some(t);
            self
        }
        fn digest(mut self, d: &'a str) -> Self {
            self.digest = Some(d);
            self
        }
    }

    /// Parse `input`, check it against `want`, and check the span invariants.
    fn check_ok(input: &str, want: &Want<'_>) -> Reference {
        let r =
            Reference::parse(input).unwrap_or_else(|e| panic!("{input:?}: unexpected error {e}"));
        assert_eq!(r.registry, want.registry, "registry of {input:?}");
        assert_eq!(r.repository, want.repository, "repository of {input:?}");
        assert_eq!(r.tag.as_deref(), want.tag, "tag of {input:?}");
        assert_eq!(r.digest.as_deref(), want.digest, "digest of {input:?}");
        check_spans(input, &r);
        r
    }

    /// Spans point at exactly the fields, in order, and cover the text after the name.
    fn check_spans(input: &str, r: &Reference) {
        assert!(r.name_end > 0 && r.name_end <= input.len(), "{input:?}");
        let mut pos = r.name_end;
        if let Some(s) = &r.tag_span {
            assert_eq!(s.start, pos + 1, "{input:?}");
            assert_eq!(&input[pos..s.start], ":");
            assert_eq!(Some(&input[s.clone()]), r.tag.as_deref());
            pos = s.end;
        } else {
            assert!(r.tag.is_none());
        }
        if let Some(s) = &r.digest_span {
            assert_eq!(s.start, pos + 1, "{input:?}");
            assert_eq!(&input[pos..s.start], "@");
            assert_eq!(Some(&input[s.clone()]), r.digest.as_deref());
            pos = s.end;
        } else {
            assert!(r.digest.is_none());
        }
        assert_eq!(pos, input.len(), "{input:?}");
    }

    fn check_err(input: &str, want: ReferenceError) {
        match Reference::parse(input) {
            Ok(r) => panic!("{input:?}: expected {want:?}, parsed {r:?}"),
            Err(e) => assert_eq!(e, want, "error for {input:?}"),
        }
    }

    #[test]
    fn reference_parse_table() {
        // From TestReferenceParse.
        let sha512 = format!("sha512:{}", "f".repeat(128));
        let d = format!("sha256:{F64}");
        let valid: Vec<(String, Want<'_>)> = vec![
            ("test_com".into(), ok("docker.io", "library/test_com")),
            (
                "test.com:tag".into(),
                ok("docker.io", "library/test.com").tag("tag"),
            ),
            (
                "test.com:5000".into(),
                ok("docker.io", "library/test.com").tag("5000"),
            ),
            (
                "test.com/repo:tag".into(),
                ok("test.com", "repo").tag("tag"),
            ),
            ("test:5000/repo".into(), ok("test:5000", "repo")),
            (
                "test:5000/repo:tag".into(),
                ok("test:5000", "repo").tag("tag"),
            ),
            (
                format!("test:5000/repo@{d}"),
                ok("test:5000", "repo").digest(&d),
            ),
            (
                format!("test:5000/repo:tag@{d}"),
                ok("test:5000", "repo").tag("tag").digest(&d),
            ),
            (
                "lowercase:Uppercase".into(),
                ok("docker.io", "library/lowercase").tag("Uppercase"),
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux".into(),
                ok("sub-dom1.foo.com", "bar/baz/quux"),
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
                ok("sub-dom1.foo.com", "bar/baz/quux").tag("some-long-tag"),
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                ok("b.gcr.io", "test.example.com/my-app").tag("test.example.com"),
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                ok("xn--n3h.com", "myimage").tag("xn--n3h.com"),
            ),
            (
                format!("xn--7o8h.com/myimage:xn--7o8h.com@{sha512}"),
                ok("xn--7o8h.com", "myimage")
                    .tag("xn--7o8h.com")
                    .digest(&sha512),
            ),
            (
                "foo_bar.com:8080".into(),
                ok("docker.io", "library/foo_bar.com").tag("8080"),
            ),
            (
                "foo/foo_bar.com:8080".into(),
                ok("docker.io", "foo/foo_bar.com").tag("8080"),
            ),
            ("192.168.1.1".into(), ok("docker.io", "library/192.168.1.1")),
            (
                "192.168.1.1:tag".into(),
                ok("docker.io", "library/192.168.1.1").tag("tag"),
            ),
            (
                "192.168.1.1:5000".into(),
                ok("docker.io", "library/192.168.1.1").tag("5000"),
            ),
            ("192.168.1.1/repo".into(), ok("192.168.1.1", "repo")),
            (
                "192.168.1.1:5000/repo".into(),
                ok("192.168.1.1:5000", "repo"),
            ),
            (
                "192.168.1.1:5000/repo:5050".into(),
                ok("192.168.1.1:5000", "repo").tag("5050"),
            ),
            ("[2001:db8::1]/repo".into(), ok("[2001:db8::1]", "repo")),
            (
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
                ok("[2001:db8:1:2:3:4:5:6]", "repo").tag("tag"),
            ),
            (
                "[2001:db8::1]:5000/repo".into(),
                ok("[2001:db8::1]:5000", "repo"),
            ),
            (
                "[2001:db8::1]:5000/repo:tag".into(),
                ok("[2001:db8::1]:5000", "repo").tag("tag"),
            ),
            (
                format!("[2001:db8::1]:5000/repo@{d}"),
                ok("[2001:db8::1]:5000", "repo").digest(&d),
            ),
            (
                format!("[2001:db8::1]:5000/repo:tag@{d}"),
                ok("[2001:db8::1]:5000", "repo").tag("tag").digest(&d),
            ),
            (
                "[2001:db8::]:5000/repo".into(),
                ok("[2001:db8::]:5000", "repo"),
            ),
            ("[::1]:5000/repo".into(), ok("[::1]:5000", "repo")),
        ];
        for (input, want) in &valid {
            check_ok(input, want);
        }

        let invalid: Vec<(String, ReferenceError)> = vec![
            (String::new(), E::Empty),
            (":justtag".into(), E::InvalidFormat),
            (format!("@sha256:{F64}"), E::InvalidFormat),
            (
                format!("repo@sha256:{}", "f".repeat(34)),
                E::InvalidDigestLength,
            ),
            (
                format!("validname@invaliddigest:{F64}"),
                E::UnsupportedDigestAlgorithm,
            ),
            ("Uppercase:tag".into(), E::Uppercase),
            ("test:5000/Uppercase/lowercase:tag".into(), E::Uppercase),
            ("aa/asdf$$^/aa".into(), E::InvalidFormat),
            ("[2001:db8::1]".into(), E::InvalidFormat),
            ("[2001:db8::1]:5000".into(), E::InvalidFormat),
            ("[2001:db8::1]:tag".into(), E::InvalidFormat),
            ("[fe80::1%eth0]:5000/repo".into(), E::InvalidFormat),
            ("[fe80::1%@invalidzone]:5000/repo".into(), E::InvalidFormat),
        ];
        for (input, want) in invalid {
            check_err(&input, want);
        }
        // Upstream FIXME: "Uppercase/lowercase" passes because `Uppercase` is taken as a
        // domain; the same holds here.
        check_ok(
            "Uppercase/lowercase:tag",
            &ok("Uppercase", "lowercase").tag("tag"),
        );
    }

    #[test]
    fn name_length_limit() {
        // From TestReferenceParse: 257 bytes of path is too long...
        check_err(&format!("{}a:tag", "a/".repeat(128)), E::NameTooLong);
        // ...255 is not (upstream sees domain `a`; normalised, all 255 bytes are path).
        let path = format!("{}a", "a/".repeat(127));
        let r = check_ok(
            &format!("{path}:tag-puts-this-over-max"),
            &ok("docker.io", &path).tag("tag-puts-this-over-max"),
        );
        assert_eq!(r.name_end, 255);
        // The limit is on the normalised path: `library/` counts (ours).
        check_ok(
            &"a".repeat(247),
            &ok("docker.io", &format!("library/{}", "a".repeat(247))),
        );
        check_err(&"a".repeat(248), E::NameTooLong);
        // ...and the registry does not (distribution/reference v0.6).
        let long = format!("registry.example.com:5000/{}", "b".repeat(255));
        check_ok(&long, &ok("registry.example.com:5000", &"b".repeat(255)));
        check_err(&format!("{long}b"), E::NameTooLong);
        // From TestValidateRemoteName: a namespace over 255 bytes.
        let ns =
            ["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"; 4].join("_");
        check_err(&format!("{ns}/docker"), E::NameTooLong);
    }

    #[test]
    fn with_name_failures_and_domain_and_path() {
        // From TestWithNameFailure: every case fails here too.
        for input in [
            String::new(),
            ":justtag".into(),
            format!("@sha256:{F64}"),
            format!("validname@invaliddigest:{F64}"),
            format!("{}a:tag", "a/".repeat(128)),
            "aa/asdf$$^/aa".into(),
        ] {
            assert!(Reference::parse(&input).is_err(), "{input:?}");
        }
        // From TestDomainAndPath / TestNormalizedSplitHostname.
        for (input, registry, repository) in [
            ("test.com/foo", "test.com", "foo"),
            ("test_com/foo", "docker.io", "test_com/foo"),
            ("docker/migrator", "docker.io", "docker/migrator"),
            ("test:8080/foo", "test:8080", "foo"),
            ("test.com:8080/foo", "test.com:8080", "foo"),
            ("test-com:8080/foo", "test-com:8080", "foo"),
            ("foo", "docker.io", "library/foo"),
            ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
            ("docker.io/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
        ] {
            check_ok(input, &ok(registry, repository));
        }
    }

    #[test]
    fn validate_reference_name() {
        // From TestValidateReferenceName and TestValidateRemoteName.
        let valid = [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "docker.io/library/debian",
            "docker.io/debian",
            "index.docker.io/docker/docker",
            "index.docker.io/library/debian",
            "index.docker.io/debian",
            "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian",
            "127.0.0.1:5000/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "doc/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
        ];
        for input in valid {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            check_spans(input, &r);
        }
        let invalid = [
            ("https://github.com/docker/docker", E::InvalidFormat),
            ("docker/Docker", E::Uppercase),
            ("-docker", E::InvalidFormat),
            ("-docker/docker", E::InvalidFormat),
            ("-docker.io/docker/docker", E::InvalidFormat),
            ("docker///docker", E::InvalidFormat),
            ("docker.io/docker/Docker", E::Uppercase),
            ("docker.io/docker///docker", E::InvalidFormat),
            ("[fc00::1]", E::InvalidFormat),
            ("[fc00::1]:5000", E::InvalidFormat),
            ("fc00::1:5000/debian", E::InvalidFormat),
            ("[fe80::1%eth0]:5000/debian", E::InvalidFormat),
            ("[2001:db8:3:4::192.0.2.33]:5000/debian", E::InvalidFormat),
            (
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
                E::HexIdentifier,
            ),
            ("docker-/docker", E::InvalidFormat),
            ("-docker-/docker", E::InvalidFormat),
            ("____/____", E::InvalidFormat),
            ("_docker/_docker", E::InvalidFormat),
            ("dock..er/docker", E::InvalidFormat),
            ("dock_.er/docker", E::InvalidFormat),
            ("dock-.er/docker", E::InvalidFormat),
            ("docker/", E::InvalidFormat),
        ];
        for (input, want) in invalid {
            check_err(input, want);
        }
    }

    #[test]
    fn parse_repository_info() {
        // From TestParseRepositoryInfo: every spelling normalises to one name.
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar"],
                "docker.io",
                "fooo/bar",
            ),
            (
                &["ubuntu", "docker.io/library/ubuntu", "library/ubuntu"],
                "docker.io",
                "library/ubuntu",
            ),
            (
                &["nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu"],
                "docker.io",
                "nonlibrary/ubuntu",
            ),
            (
                &["other/library", "docker.io/other/library"],
                "docker.io",
                "other/library",
            ),
            (
                &["127.0.0.1:8000/private/moonbase"],
                "127.0.0.1:8000",
                "private/moonbase",
            ),
            (
                &["127.0.0.1:8000/privatebase"],
                "127.0.0.1:8000",
                "privatebase",
            ),
            (
                &["example.com/private/moonbase"],
                "example.com",
                "private/moonbase",
            ),
            (&["example.com/privatebase"], "example.com", "privatebase"),
            (
                &["example.com:8000/private/moonbase"],
                "example.com:8000",
                "private/moonbase",
            ),
            (
                &["example.com:8000/privatebasee"],
                "example.com:8000",
                "privatebasee",
            ),
            (
                &[
                    "ubuntu-12.04-base",
                    "docker.io/library/ubuntu-12.04-base",
                    "index.docker.io/library/ubuntu-12.04-base",
                ],
                "docker.io",
                "library/ubuntu-12.04-base",
            ),
            (
                &["foo", "docker.io/library/foo", "docker.io/foo"],
                "docker.io",
                "library/foo",
            ),
            (
                &["library/foo/bar", "docker.io/library/foo/bar"],
                "docker.io",
                "library/foo/bar",
            ),
            (
                &["store/foo/bar", "docker.io/store/foo/bar"],
                "docker.io",
                "store/foo/bar",
            ),
            (&["Foo/bar"], "Foo", "bar"),
            (&["FOO/bar"], "FOO", "bar"),
        ];
        for (spellings, registry, repository) in cases {
            for input in *spellings {
                let r = check_ok(input, &ok(registry, repository));
                assert_eq!(r.full_name(), format!("{registry}/{repository}"));
            }
        }
    }

    #[test]
    fn parse_any_reference_names_and_tag_with_digest() {
        // From TestParseAnyReference (the inputs that are names).
        let d = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
        let hub = "docker.io/library";
        let cases: Vec<(String, String)> = vec![
            ("redis".into(), format!("{hub}/redis")),
            ("redis:latest".into(), format!("{hub}/redis:latest")),
            (
                "docker.io/library/redis:latest".into(),
                format!("{hub}/redis:latest"),
            ),
            (format!("redis@{d}"), format!("{hub}/redis@{d}")),
            ("dmcgowan/myapp".into(), "docker.io/dmcgowan/myapp".into()),
            (
                "dmcgowan/myapp:latest".into(),
                "docker.io/dmcgowan/myapp:latest".into(),
            ),
            (
                "docker.io/mcgowan/myapp:latest".into(),
                "docker.io/mcgowan/myapp:latest".into(),
            ),
            (
                format!("dmcgowan/myapp@{d}"),
                format!("docker.io/dmcgowan/myapp@{d}"),
            ),
            (d[7..70].into(), format!("{hub}/{}", &d[7..70])),
            ("dbcc1".into(), format!("{hub}/dbcc1")),
            // ParseAnyReference reads this as a bare digest; as a *name* (what upstream's
            // ParseNormalizedNamed does) it is the image `sha256` with a 64-char tag.
            (d.into(), format!("{hub}/{d}")),
        ];
        for (input, canonical) in &cases {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(r.to_string(), *canonical);
            check_spans(input, &r);
        }
        check_err(&d["sha256:".len()..], E::HexIdentifier);

        // From TestParseReferenceWithTagAndDigest.
        let short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
        let r = Reference::parse(short).expect("valid");
        assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert!(r.digest.is_some());
    }

    #[test]
    fn tags() {
        // Ours, from the tag grammar and TestInvalidReferenceComponents.
        let t128 = format!("v{}", "x".repeat(127));
        check_ok(
            &format!("nginx:{t128}"),
            &ok("docker.io", "library/nginx").tag(&t128),
        );
        check_err(&format!("nginx:{t128}x"), E::InvalidTag);
        for good in [
            "_",
            "0",
            "A",
            "_x",
            "1.25",
            "1.25-alpine",
            "V1_x-y.z",
            "a..b",
            "a--",
        ] {
            check_ok(
                &format!("nginx:{good}"),
                &ok("docker.io", "library/nginx").tag(good),
            );
        }
        for bad in ["", ".x", "-foo", "-", "a:b", "ä", "a b", "1.25 "] {
            check_err(&format!("nginx:{bad}"), E::InvalidTag);
        }
        // A '/' after the ':' makes `nginx:a` a would-be host with a bad port.
        check_err("nginx:a/b", E::InvalidFormat);
        check_err(&format!("nginx:@{}", sha256('a')), E::InvalidTag);
    }

    #[test]
    fn digests() {
        // Ours, following go-digest's validation.
        for (alg, n) in [("sha256", 64), ("sha384", 96), ("sha512", 128)] {
            let d = format!("{alg}:{}", "0a".repeat(n / 2));
            check_ok(&format!("x@{d}"), &ok("docker.io", "library/x").digest(&d));
            check_err(
                &format!("x@{alg}:{}", "a".repeat(n + 1)),
                E::InvalidDigestLength,
            );
            check_err(
                &format!("x@{alg}:{}", "a".repeat(n - 1)),
                E::InvalidDigestLength,
            );
            check_err(&format!("x@{alg}:{}", "A".repeat(n)), E::InvalidDigest);
        }
        check_err(&format!("x@SHA256:{F64}"), E::UnsupportedDigestAlgorithm);
        check_err(
            &format!("x@sha256+b64:{F64}"),
            E::UnsupportedDigestAlgorithm,
        );
        check_err(
            &format!("x@md5:{}", "a".repeat(32)),
            E::UnsupportedDigestAlgorithm,
        );
        for bad in [
            String::new(),
            "sha256".into(),
            "sha256:".into(),
            format!("sha256:{}", "a".repeat(31)),
            format!("sha256:{}g", "a".repeat(63)),
            format!(":{F64}"),
            format!("1sha:{F64}"),
            format!("sha-:{F64}"),
            format!("sha256:{F64}@sha256:{F64}"),
            format!("sha256:{F64} "),
        ] {
            check_err(&format!("x@{bad}"), E::InvalidDigest);
        }
    }

    #[test]
    fn hosts_and_normalisation() {
        // Ours: the brief's cases and host corner cases.
        check_ok("localhost/x", &ok("localhost", "x"));
        check_ok("localhost:5000/x", &ok("localhost:5000", "x"));
        check_ok("localhost", &ok("docker.io", "library/localhost"));
        check_ok(
            "localhost:5000",
            &ok("docker.io", "library/localhost").tag("5000"),
        );
        check_ok("Foo.com/x", &ok("Foo.com", "x"));
        check_err("foo/Bar", E::Uppercase);
        check_err("Foo.com/X", E::Uppercase);
        check_err("Foo_Bar/x", E::Uppercase);
        check_ok("index.docker.io/nginx", &ok("docker.io", "library/nginx"));
        check_ok(
            "registry-1.docker.io/nginx",
            &ok("registry-1.docker.io", "nginx"),
        );
        check_ok("ghcr.io/org/app:v1", &ok("ghcr.io", "org/app").tag("v1"));
        check_ok("a.b:0/x", &ok("a.b:0", "x"));
        check_ok("[::1]/x", &ok("[::1]", "x"));
        check_ok("[ABCD::1]:1/x", &ok("[ABCD::1]:1", "x"));
        for bad in [
            "[]/x",
            "[::1/x",
            "[::1]x/x",
            "[::1]:/x",
            "[::1]:a/x",
            "a.b:/x",
            "a.b:5000:1/x",
            "a..b/x",
            ".a/x",
            "a./x",
            "-a.b/x",
            "a-.b/x",
            "my_reg.example/x", // upstream: accepted with an empty domain (see module doc)
            "ex ample.com/x",
            "/x",
            "x/",
            "a//b",
            "x:",
            "x@",
            " nginx",
            "nginx ",
            "nginx\n",
            "\tnginx:1.25",
            "ngïnx",
            "\"nginx\"",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be invalid");
        }
        check_err("nginx :1.25", E::InvalidFormat);
        check_err("nginx:1.25 ", E::InvalidTag);
        check_err("Nginx", E::Uppercase);
        check_err("foo/É", E::Uppercase);
    }

    #[test]
    fn spans() {
        let hex = "a".repeat(64);
        let text = format!("nginx:1.25@sha256:{hex}");
        let r = Reference::parse(&text).expect("valid");
        assert_eq!(r.name_end, 5);
        assert_eq!(&text[..r.name_end], "nginx");
        let tag = r.tag_span.clone().expect("tag");
        assert_eq!(&text[tag], "1.25");
        let digest = r.digest_span.clone().expect("digest");
        assert_eq!(&text[digest.clone()], format!("sha256:{hex}"));
        assert_eq!(digest, 11..text.len());
        assert_eq!(r.effective_tag(), Some("1.25"));
        assert_eq!(r.full_name(), "docker.io/library/nginx");

        let r = Reference::parse("localhost:5000/app").expect("valid");
        assert_eq!(
            (r.tag.clone(), r.tag_span.clone(), r.name_end),
            (None, None, 18)
        );
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.effective_tag(), Some("latest"));

        let text = "[::1]:5000/app:v1";
        let r = Reference::parse(text).expect("valid");
        assert_eq!(r.registry, "[::1]:5000");
        assert_eq!(r.repository, "app");
        assert_eq!(&text[r.tag_span.clone().expect("tag")], "v1");
        assert_eq!(&text[..r.name_end], "[::1]:5000/app");

        // Pinning splices at name_end / the tag's end; digest-only has nothing to resolve.
        let text = format!("ghcr.io/o/a@{}", sha256('b'));
        let r = Reference::parse(&text).expect("valid");
        assert_eq!(r.effective_tag(), None);
        assert_eq!(r.name_end, "ghcr.io/o/a".len());
        assert_eq!(r.digest_span, Some(r.name_end + 1..text.len()));
    }

    #[test]
    fn error_messages() {
        assert_eq!(E::InvalidFormat.to_string(), "invalid reference format");
        assert_eq!(
            E::Uppercase.to_string(),
            "invalid reference format: repository name must be lowercase"
        );
        assert_eq!(
            E::NameTooLong.to_string(),
            "repository name must not be more than 255 characters"
        );
        assert_eq!(
            E::UnsupportedDigestAlgorithm.to_string(),
            "unsupported digest algorithm"
        );
        assert!(
            E::HexIdentifier
                .to_string()
                .contains("cannot specify 64-byte hexadecimal strings")
        );
        let boxed: Box<dyn std::error::Error> = Box::new(E::InvalidTag);
        assert_eq!(boxed.to_string(), "invalid tag format");
        assert_eq!(
            "nginx".parse::<Reference>().map(|r| r.to_string()),
            Ok("docker.io/library/nginx".into())
        );
    }

    #[test]
    fn round_trip() {
        // Ours: every combination of written registry × path × tag × digest parses back
        // to the parts it was built from, with exact spans.
        let registries: &[(&str, &str)] = &[
            ("", "docker.io"),
            ("docker.io", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("registry-1.docker.io", "registry-1.docker.io"),
            ("ghcr.io", "ghcr.io"),
            ("localhost", "localhost"),
            ("localhost:5000", "localhost:5000"),
            ("myhost:443", "myhost:443"),
            ("127.0.0.1", "127.0.0.1"),
            ("192.168.0.1:8080", "192.168.0.1:8080"),
            ("[::1]", "[::1]"),
            ("[::1]:5000", "[::1]:5000"),
            ("[2001:db8::1]:5000", "[2001:db8::1]:5000"),
            ("Example.COM", "Example.COM"),
            ("Registry", "Registry"),
            ("xn--n3h.com:18080", "xn--n3h.com:18080"),
            ("a", "docker.io"), // not a registry: becomes the first path component
        ];
        let paths = [
            "nginx",
            "library/nginx",
            "org/team/app",
            "x",
            "my-app__x.y",
            "a--b/c_d.e",
            "0/1",
        ];
        let long_tag = format!("T{}", "_".repeat(127));
        let tags = [
            None,
            Some("1.25"),
            Some("latest"),
            Some("V1_x-y.z"),
            Some("_"),
            Some(long_tag.as_str()),
        ];
        let digests = [
            None,
            Some(sha256('0')),
            Some(format!("sha384:{}", "1f".repeat(48))),
            Some(format!("sha512:{}", "e".repeat(128))),
        ];
        let mut count = 0;
        for (written, registry) in registries {
            for path in paths {
                for tag in tags {
                    for digest in &digests {
                        let prefix = if written.is_empty() {
                            String::new()
                        } else {
                            format!("{written}/")
                        };
                        let name = format!("{prefix}{path}");
                        let mut text = name.clone();
                        if let Some(t) = tag {
                            text = format!("{text}:{t}");
                        }
                        if let Some(d) = digest {
                            text = format!("{text}@{d}");
                        }
                        let written_path = if *written == "a" {
                            format!("a/{path}")
                        } else {
                            path.to_string()
                        };
                        let repository = if *registry == "docker.io" && !written_path.contains('/')
                        {
                            format!("library/{written_path}")
                        } else {
                            written_path
                        };
                        let want = Want {
                            registry,
                            repository: &repository,
                            tag,
                            digest: digest.as_deref(),
                        };
                        let r = check_ok(&text, &want);
                        assert_eq!(r.name_end, name.len(), "{text:?}");
                        let tag_start = name.len() + 1;
                        assert_eq!(
                            r.tag_span,
                            tag.map(|t| tag_start..tag_start + t.len()),
                            "{text:?}"
                        );
                        assert_eq!(
                            r.digest_span,
                            digest.as_ref().map(|d| text.len() - d.len()..text.len())
                        );
                        assert_eq!(r.full_name(), format!("{registry}/{repository}"));
                        let want_effective = match (tag, digest) {
                            (Some(t), _) => Some(t),
                            (None, None) => Some("latest"),
                            (None, Some(_)) => None,
                        };
                        assert_eq!(r.effective_tag(), want_effective);
                        // The canonical form is itself a reference to the same thing.
                        let again =
                            Reference::parse(&r.to_string()).expect("canonical form parses");
                        assert_eq!(
                            (&again.registry, &again.repository),
                            (&r.registry, &r.repository)
                        );
                        assert_eq!((&again.tag, &again.digest), (&r.tag, &r.digest));
                        count += 1;
                    }
                }
            }
        }
        assert_eq!(
            count,
            registries.len() * paths.len() * tags.len() * digests.len()
        );
    }

    #[test]
    fn never_panics() {
        // Ours: every prefix and suffix (at char boundaries) of tricky strings, plus a
        // deterministic pseudo-random soup, either parses with sound spans or errors.
        let tricky = [
            format!("[2001:db8::1]:5000/repo:tag@sha256:{F64}"),
            format!("ünïcödé.例え.jp:5000/ÄÖ/ß:täg@sha256:{F64}é"),
            "[fe80::1%eth0]:5000/repo".to_string(),
            "[[::1]]:5000//a::b@@c:d".to_string(),
            format!(
                "localhost:5000/a/b/c:{}@sha512:{}",
                "t".repeat(130),
                "f".repeat(128)
            ),
            "Foo.com/x:🐳@sha256:🐳".to_string(),
            "a:b:c@d:e@f/g".to_string(),
            "\u{0}\u{7f}/\u{feff}:\u{200b}".to_string(),
        ];
        let try_parse = |s: &str| {
            if let Ok(r) = Reference::parse(s) {
                check_spans(s, &r);
            }
        };
        for s in &tricky {
            for (i, _) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
                try_parse(&s[..i]);
                try_parse(&s[i..]);
            }
        }
        let alphabet: Vec<char> = "aZ09._-_/:@[]%$ é🐳f".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = (seed >> 59) as usize;
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            try_parse(&s);
        }
    }
}
