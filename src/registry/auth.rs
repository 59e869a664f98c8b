//! Registry authentication: what a registry's `WWW-Authenticate` challenge asks for,
//! and how to turn a bearer challenge into a token request. Docker Hub, GHCR, Quay and
//! most registries answer `GET /v2/` with `401` and `Bearer realm=…,service=…`; the
//! client then asks the realm for a token scoped to one or several repositories (the
//! token protocol repeats `scope` in a `GET`, and OAuth2 separates scopes with spaces in
//! a `POST`).

use reqwest::Url;
use serde::Deserialize;

/// What a registry wants before it serves manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Open registry: no credentials needed.
    None,
    /// OAuth2-style bearer tokens from `realm`.
    Bearer {
        realm: String,
        service: Option<String>,
    },
    /// HTTP basic auth.
    Basic,
}

/// Parse a `WWW-Authenticate` header value. Bearer is preferred when several
/// challenges are offered; `None` when no challenge imagepin understands is present.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let challenges = http_auth::parse_challenges(header).ok()?;
    let mut basic = false;
    for c in &challenges {
        if c.scheme.eq_ignore_ascii_case("bearer") {
            let param = |name: &str| {
                c.params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_unescaped())
            };
            let realm = param("realm")?;
            return Some(Challenge::Bearer {
                realm,
                service: param("service"),
            });
        }
        basic |= c.scheme.eq_ignore_ascii_case("basic");
    }
    basic.then_some(Challenge::Basic)
}

/// `repository:NAME:pull`, the scope for pulling one repository.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// The token request URL for pulling `repositories` (as the endpoint names them): one
/// `scope` parameter each.
pub fn token_url(
    realm: &str,
    service: Option<&str>,
    repositories: &[String],
) -> Result<Url, String> {
    let mut url =
        Url::parse(realm).map_err(|e| format!("token realm {realm:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("token realm {realm:?} is not an http(s) URL"));
    }
    {
        let mut q = url.query_pairs_mut();
        if let Some(service) = service {
            q.append_pair("service", service);
        }
        for repository in repositories {
            q.append_pair("scope", &pull_scope(repository));
        }
    }
    Ok(url)
}

/// A token endpoint's answer: Docker's `token` or OAuth2's `access_token`, and how
/// long it is valid.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// How long a token lives when its answer does not say (the token protocol's default).
pub const DEFAULT_TOKEN_LIFETIME: u64 = 60;

impl TokenResponse {
    /// The token (none: the realm grants anonymous access without one) and its lifetime
    /// in seconds.
    pub fn into_token(self) -> (Option<String>, u64) {
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()));
        (token, self.expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;
        assert_eq!(
            parse_challenge(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="x""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Bearer service=\"x\""), None, "no realm");
        assert_eq!(parse_challenge("garbage ,,, ="), None);
    }

    #[test]
    fn token_url_carries_scope() {
        let u = token_url(
            "https://auth.example/token?x=1",
            Some("reg"),
            &["library/nginx".into(), "acme/app".into()],
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://auth.example/token?x=1&service=reg&scope=repository%3Alibrary%2Fnginx%3Apull&scope=repository%3Aacme%2Fapp%3Apull"
        );
        assert!(token_url("file:///etc/passwd", None, &["a".into()]).is_err());
    }
}
