//! The registry HTTP client: a ping per registry to learn its auth challenge, a token
//! per repository, a manifest `HEAD` per reference — each single-flighted so concurrent
//! tasks share one request and its outcome — with bounded retries that honour
//! `Retry-After`. A `GET` is made only when a `HEAD` answers without a digest, and then
//! the body's sha256 is what counts. Every request is counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use tokio::sync::OnceCell;

use super::auth::{self, Challenge, TokenResponse};
use super::credentials::{self, Credential, Credentials};
use super::wire::{
    MAX_ATTEMPTS, MAX_WAIT, backoff, chain, header, is_permanent, network, protocol, read_hashed,
    redacted_url, retry_after, status_error, validate_digest, with_auth,
};
use super::{Endpoint, MANIFEST_TYPES, RegistryError, Routing};

/// How many requests of each kind were sent (retries included).
#[derive(Debug, Default)]
pub struct RequestStats {
    pub pings: AtomicUsize,
    pub tokens: AtomicUsize,
    pub heads: AtomicUsize,
    pub gets: AtomicUsize,
    pub retries: AtomicUsize,
}

impl RequestStats {
    pub fn total(&self) -> usize {
        [&self.pings, &self.tokens, &self.heads, &self.gets]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// Credentials go to a token realm only over TLS, or to a loopback host.
fn realm_may_get_credentials(url: &reqwest::Url) -> bool {
    url.scheme() == "https" || url.host_str().is_some_and(super::endpoint::is_loopback)
}

#[derive(Clone, Copy)]
enum Kind {
    Ping,
    Token,
    Head,
    Get,
}

/// A manifest's identity as the registry reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: String,
    pub media_type: Option<String>,
}

type Shared<T> = Arc<OnceCell<Result<T, RegistryError>>>;
/// Single-flight cells by key: the first caller runs the request, the rest await it.
type Flights<K, T> = Mutex<HashMap<K, Shared<T>>>;

/// One client per run: connections, challenges and tokens are shared by all tasks.
pub struct Client {
    http: reqwest::Client,
    /// Clients for hosts with an extra CA bundle, by host.
    http_with_ca: HashMap<String, reqwest::Client>,
    challenges: Flights<String, Challenge>,
    /// Keyed by (endpoint base, repository as the endpoint names it).
    tokens: Flights<(String, String), Option<String>>,
    credentials: Credentials,
    rate_limits: Mutex<HashMap<String, String>>,
    pub stats: RequestStats,
}

fn shared<K: std::hash::Hash + Eq, T>(map: &Flights<K, T>, key: K) -> Shared<T> {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key).or_default().clone()
}

impl Client {
    pub fn new(timeout: Duration, routing: &Routing) -> Result<Client, String> {
        // Any provider already installed by an embedding program is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = || {
            reqwest::Client::builder()
                .user_agent(concat!("imagepin/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10).min(timeout))
                .timeout(timeout)
        };
        let failed = |e: reqwest::Error| format!("cannot set up the HTTP client: {}", chain(&e));
        let http = builder().build().map_err(failed)?;
        let mut http_with_ca = HashMap::new();
        for (host, path) in routing.cas() {
            let pem = std::fs::read(path)
                .map_err(|e| format!("registries.{host}.ca: {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!(
                    "registries.{host}.ca: {}: not a PEM certificate bundle ({e})",
                    path.display()
                )
            })?;
            if certs.is_empty() {
                return Err(format!(
                    "registries.{host}.ca: {}: no certificates in it",
                    path.display()
                ));
            }
            let client = builder().tls_certs_merge(certs).build().map_err(failed)?;
            http_with_ca.insert(host.clone(), client);
        }
        Ok(Client {
            http,
            http_with_ca,
            challenges: Mutex::default(),
            tokens: Mutex::default(),
            credentials: Credentials::new(timeout),
            rate_limits: Mutex::default(),
            stats: RequestStats::default(),
        })
    }

    /// The HTTP client for an endpoint: one trusting the host's extra CA, if it has one.
    fn http_for(&self, ep: &Endpoint) -> &reqwest::Client {
        self.http_with_ca
            .get(&ep.credential_host())
            .unwrap_or(&self.http)
    }

    /// The HTTP client for a URL (a token realm may live on another host).
    fn http_for_url(&self, url: &reqwest::Url) -> &reqwest::Client {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        self.http_with_ca.get(&host).unwrap_or(&self.http)
    }

    /// A manifest request accepting all four manifest types.
    fn manifest_request(
        &self,
        ep: &Endpoint,
        method: Method,
        url: &str,
        authorization: Option<&str>,
    ) -> RequestBuilder {
        let req = self
            .http_for(ep)
            .request(method, url)
            .header(ACCEPT, MANIFEST_TYPES.join(", "));
        with_auth(req, authorization)
    }

    /// The digest `reference` (a tag or digest) points to in `repository`.
    pub async fn head_manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let authorization = self.authorization(ep, repository).await?;
        let url = ep.manifest_url(repository, reference);
        let resp = self
            .send(ep, Kind::Head, || {
                self.manifest_request(ep, Method::HEAD, &url, authorization.as_deref())
            })
            .await?;
        let status = resp.status();
        if status.is_success() {
            let media_type = header(&resp, CONTENT_TYPE.as_str());
            return match header(&resp, "docker-content-digest") {
                Some(digest) => {
                    validate_digest(&digest).map_err(|m| protocol(ep, m))?;
                    Ok(ManifestHead { digest, media_type })
                }
                None => {
                    self.get_manifest(ep, repository, reference, authorization)
                        .await
                }
            };
        }
        Err(self
            .error_for(ep, repository, reference, status, &url)
            .await)
    }

    /// `GET` a manifest and compute its digest from the body (used when a `HEAD`
    /// carries no digest). A digest header that disagrees with the body is an error.
    async fn get_manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
        authorization: Option<String>,
    ) -> Result<ManifestHead, RegistryError> {
        let (_, head) = self
            .fetch_manifest(ep, repository, reference, authorization)
            .await?;
        Ok(head)
    }

    /// A manifest's body and identity; the body's sha256 is checked against the digest
    /// the registry claims and, when `reference` is a digest, against that.
    pub async fn manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, ManifestHead), RegistryError> {
        let authorization = self.authorization(ep, repository).await?;
        self.fetch_manifest(ep, repository, reference, authorization)
            .await
    }

    async fn fetch_manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
        authorization: Option<String>,
    ) -> Result<(Vec<u8>, ManifestHead), RegistryError> {
        let url = ep.manifest_url(repository, reference);
        let resp = self
            .send(ep, Kind::Get, || {
                self.manifest_request(ep, Method::GET, &url, authorization.as_deref())
            })
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self
                .error_for(ep, repository, reference, status, &url)
                .await);
        }
        let claimed = header(&resp, "docker-content-digest");
        let media_type = header(&resp, CONTENT_TYPE.as_str());
        let (body, digest) = read_hashed(ep, resp, &format!("{repository}:{reference}")).await?;
        for expected in [
            claimed.as_deref(),
            reference.starts_with("sha256:").then_some(reference),
        ]
        .into_iter()
        .flatten()
        {
            if expected.starts_with("sha256:") && expected != digest {
                return Err(protocol(
                    ep,
                    format!(
                        "manifest body for {repository}:{reference} hashes to {digest}, but {expected} was expected"
                    ),
                ));
            }
        }
        Ok((body, ManifestHead { digest, media_type }))
    }

    /// A blob (an image config), checked against its digest.
    pub async fn blob(
        &self,
        ep: &Endpoint,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let authorization = self.authorization(ep, repository).await?;
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            ep.base,
            ep.repository(repository)
        );
        let resp = self
            .send(ep, Kind::Get, || {
                with_auth(self.http_for(ep).get(&url), authorization.as_deref())
            })
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self.error_for(ep, repository, digest, status, &url).await);
        }
        let (body, actual) = read_hashed(ep, resp, &format!("{repository}@{digest}")).await?;
        if actual != digest {
            return Err(protocol(ep, format!("blob {digest} hashes to {actual}")));
        }
        Ok(body)
    }

    /// The `Authorization` header value for pulling `repository`, if one is needed.
    async fn authorization(
        &self,
        ep: &Endpoint,
        repository: &str,
    ) -> Result<Option<String>, RegistryError> {
        let challenge = self.challenge(ep).await?;
        match challenge {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self.credential(ep).await?.and_then(|c| c.basic_header())),
            Challenge::Bearer { realm, service } => {
                let cell = shared(&self.tokens, (ep.base.clone(), ep.repository(repository)));
                let token = cell
                    .get_or_init(|| self.fetch_token(ep, &realm, service.as_deref(), repository))
                    .await
                    .clone()?;
                Ok(token.map(|t| format!("Bearer {t}")))
            }
        }
    }

    /// The credential for an endpoint, if one is configured and may be sent there. A
    /// helper that fails or hangs, or a broken auth file, fails the lookup naming it.
    async fn credential(&self, ep: &Endpoint) -> Result<Option<Credential>, RegistryError> {
        if !ep.may_send_credentials() {
            return Ok(None);
        }
        self.credentials
            .for_host(&ep.credential_host())
            .await
            .map_err(|e| RegistryError::Credentials {
                registry: ep.label(),
                message: e.to_string(),
            })
    }

    /// Say, for a refusal, which credentials were used or where imagepin looked.
    async fn credential_note(&self, ep: &Endpoint) -> String {
        let host = ep.credential_host();
        if !ep.may_send_credentials() {
            return format!("credentials are never sent to {host} over plain HTTP");
        }
        let credential = match self.credentials.for_host(&host).await {
            Ok(c) => c,
            Err(e) => return format!("the credentials for {host} could not be had: {e}"),
        };
        if credential.is_some()
            && let Some(realm) = self.withheld_realm(ep)
        {
            return format!(
                "the credentials for {host} were not sent to the token realm {realm}: credentials never go over plain HTTP to a host that is not loopback"
            );
        }
        match credential {
            Some(Credential::Basic { username, .. }) => {
                format!("the credentials for {host} (user {username}) were refused")
            }
            Some(Credential::IdentityToken(_)) => {
                format!("the identity token for {host} was refused")
            }
            None => format!(
                "imagepin asked anonymously: no credentials for {host} in {}",
                credentials::SOURCES
            ),
        }
    }

    /// The token realm of an endpoint's (already learnt) bearer challenge, when it may
    /// not be sent credentials; redacted for messages.
    fn withheld_realm(&self, ep: &Endpoint) -> Option<String> {
        let cell = shared(&self.challenges, ep.base.clone());
        let Some(Ok(Challenge::Bearer { realm, .. })) = cell.get() else {
            return None;
        };
        let url = reqwest::Url::parse(realm).ok()?;
        (!realm_may_get_credentials(&url)).then(|| redacted_url(&url))
    }

    /// The error for a failed answer; refusals say what credentials were involved.
    async fn error_for(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
        status: StatusCode,
        url: &str,
    ) -> RegistryError {
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                self.denied(ep, repository, status.as_u16()).await
            }
            s => status_error(ep, repository, reference, s, url),
        }
    }

    async fn denied(&self, ep: &Endpoint, repository: &str, status: u16) -> RegistryError {
        RegistryError::Denied {
            registry: ep.label(),
            repository: repository.to_string(),
            status,
            credentials: self.credential_note(ep).await,
        }
    }

    /// Ping `/v2/` once per endpoint to learn what it asks for.
    async fn challenge(&self, ep: &Endpoint) -> Result<Challenge, RegistryError> {
        let cell = shared(&self.challenges, ep.base.clone());
        cell.get_or_init(|| async {
            let url = format!("{}/v2/", ep.base);
            let resp = self
                .send(ep, Kind::Ping, || self.http_for(ep).get(&url))
                .await?;
            match resp.status() {
                s if s.is_success() => Ok(Challenge::None),
                StatusCode::UNAUTHORIZED => {
                    let h = header(&resp, WWW_AUTHENTICATE.as_str()).unwrap_or_default();
                    auth::parse_challenge(&h).ok_or_else(|| {
                        protocol(ep, format!("unsupported authentication challenge {h:?}"))
                    })
                }
                StatusCode::NOT_FOUND => Err(protocol(
                    ep,
                    format!(
                        "{url} answered 404: not a registry API endpoint (check the mirror URL)"
                    ),
                )),
                // Go's TLS servers answer plain HTTP with 400.
                StatusCode::BAD_REQUEST if ep.is_plain_http() => Err(protocol(
                    ep,
                    format!(
                        "{url} answered HTTP 400 to plain HTTP: it probably speaks HTTPS (loopback registries are spoken to over plain HTTP); for HTTPS add `registries: {{\"{host}\": {{ca: FILE}}}}` to .imagepin.yaml with the CA that signed its certificate",
                        host = ep.credential_host()
                    ),
                )),
                s => Err(RegistryError::Status {
                    registry: ep.label(),
                    status: s.as_u16(),
                    url,
                }),
            }
        })
        .await
        .clone()
    }

    async fn fetch_token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        repository: &str,
    ) -> Result<Option<String>, RegistryError> {
        let scoped = ep.repository(repository);
        let url = auth::token_url(realm, service, &scoped).map_err(|m| protocol(ep, m))?;
        let credential = if realm_may_get_credentials(&url) {
            self.credential(ep).await?
        } else {
            None
        };
        let resp = match &credential {
            Some(Credential::IdentityToken(refresh)) => {
                let body = {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.append_pair("grant_type", "refresh_token")
                        .append_pair("client_id", "imagepin")
                        .append_pair("refresh_token", refresh)
                        .append_pair("scope", &format!("repository:{scoped}:pull"));
                    if let Some(service) = service {
                        form.append_pair("service", service);
                    }
                    form.finish()
                };
                let mut post_url = url.clone();
                post_url.set_query(None);
                self.send(ep, Kind::Token, || {
                    self.http_for_url(&url)
                        .post(post_url.clone())
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(body.clone())
                })
                .await?
            }
            other => {
                let basic = other.as_ref().and_then(Credential::basic_header);
                self.send(ep, Kind::Token, || {
                    with_auth(self.http_for_url(&url).get(url.clone()), basic.as_deref())
                })
                .await?
            }
        };
        let status = resp.status();
        if !status.is_success() {
            return Err(self.denied(ep, repository, status.as_u16()).await);
        }
        let bytes = resp.bytes().await.map_err(|e| network(ep, &e))?;
        let body: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            protocol(
                ep,
                format!("token endpoint answered with malformed JSON: {e}"),
            )
        })?;
        Ok(body.into_token())
    }

    /// Send with bounded retries: 429 waits as `Retry-After` says (capped), 5xx and
    /// connection failures back off exponentially with jitter.
    async fn send(
        &self,
        ep: &Endpoint,
        kind: Kind,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.count(kind);
            let last = attempt >= MAX_ATTEMPTS;
            let (client, request) = make().build_split();
            let request = request.map_err(|e| network(ep, &e))?;
            let method = request.method().clone();
            let url = redacted_url(request.url());
            let authorization = if request.headers().contains_key(AUTHORIZATION) {
                "<redacted>"
            } else {
                "none"
            };
            tracing::debug!(%method, %url, attempt, authorization, "request");
            match client.execute(request).await {
                Ok(resp) => {
                    let status = resp.status();
                    tracing::info!(%method, %url, status = status.as_u16(), attempt, "answer");
                    if let Some(remaining) = header(&resp, "ratelimit-remaining") {
                        self.note_rate_limit(&ep.registry, remaining);
                    }
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || matches!(status.as_u16(), 500 | 502 | 503 | 504);
                    if !retryable {
                        return Ok(resp);
                    }
                    if last {
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            return Err(RegistryError::RateLimited {
                                registry: ep.label(),
                                attempts: attempt,
                            });
                        }
                        return Ok(resp);
                    }
                    let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait.min(MAX_WAIT)).await;
                }
                Err(e)
                    if !last
                        && !is_permanent(&e)
                        && (e.is_connect() || e.is_timeout() || e.is_request()) =>
                {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(network(ep, &e)),
            }
        }
    }

    /// Remember the latest `RateLimit-Remaining` a registry sent.
    fn note_rate_limit(&self, registry: &str, remaining: String) {
        let mut map = self.rate_limits.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(registry.to_string(), remaining);
    }

    /// `RateLimit-Remaining` per registry, as last sent.
    pub fn rate_limits(&self) -> Vec<(String, String)> {
        let map = self.rate_limits.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(String, String)> =
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort();
        v
    }

    fn count(&self, kind: Kind) {
        let counter = match kind {
            Kind::Ping => &self.stats.pings,
            Kind::Token => &self.stats.tokens,
            Kind::Head => &self.stats.heads,
            Kind::Get => &self.stats.gets,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
