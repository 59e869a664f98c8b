//! The registry HTTP client: a ping per registry to learn its auth challenge, tokens
//! for many repositories at once ([`super::tokens`]), a manifest `HEAD` per reference,
//! manifest and blob `GET`s where an answer needs a body — each single-flighted and
//! kept for the run, so concurrent tasks share one request and its outcome — with
//! bounded retries that honour `Retry-After` and cover reading the body. A manifest body
//! counts only when it is one (by its `Content-Type`, or JSON that says so), and then
//! its sha256 is what counts. Every request is counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, StatusCode};
use tokio::sync::OnceCell;

use super::auth::{self, Challenge, TokenResponse};
use super::credentials::{self, Credential, Credentials};
use super::tokens::{Source, Token, Tokens};
use super::wire::{
    Fetched, MAX_ATTEMPTS, MAX_BODY_BYTES, MAX_WAIT, backoff, chain, header, is_permanent,
    manifest_media_type, network, protocol, read_body, redacted_url, retry_after, sha256,
    status_error, validate_digest, with_auth,
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

/// A manifest's body, checked against its digest, and its media type, checked to be
/// one of [`MANIFEST_TYPES`].
#[derive(Debug)]
pub struct Manifest {
    pub head: ManifestHead,
    pub body: Vec<u8>,
}

type Shared<T> = Arc<OnceCell<Result<T, RegistryError>>>;
/// Single-flight cells by key: the first caller runs the request, the rest await it.
type Flights<K, T> = Mutex<HashMap<K, Shared<T>>>;
/// (endpoint base, repository as the endpoint names it, tag or digest).
type At = (String, String, String);

/// The `Authorization` a request carries, and whether it is a token asked for several
/// repositories (which a registry may turn out not to honour for this one).
struct Auth {
    header: Option<String>,
    shared: bool,
}

/// One client per run: connections, challenges, tokens and answers are shared by all
/// tasks.
pub struct Client {
    http: reqwest::Client,
    /// Clients for hosts with an extra CA bundle, by host.
    http_with_ca: HashMap<String, reqwest::Client>,
    challenges: Flights<String, Challenge>,
    tokens: Tokens,
    /// Answers kept for the run: a tag's digest does not change under a run's feet, a
    /// digest's body never does.
    heads: Flights<At, ManifestHead>,
    manifests: Flights<At, Arc<Manifest>>,
    blobs: Flights<At, Arc<Vec<u8>>>,
    credentials: Credentials,
    rate_limits: Mutex<HashMap<String, String>>,
    /// Registries already said to be making imagepin wait (said once per registry).
    waits_said: Mutex<std::collections::HashSet<String>>,
    pub stats: RequestStats,
}

fn at(ep: &Endpoint, repository: &str, reference: &str) -> At {
    (
        ep.base.clone(),
        ep.repository(repository),
        reference.to_string(),
    )
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
            tokens: Tokens::default(),
            heads: Mutex::default(),
            manifests: Mutex::default(),
            blobs: Mutex::default(),
            credentials: Credentials::new(timeout),
            rate_limits: Mutex::default(),
            waits_said: Mutex::default(),
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

    /// The digest `reference` (a tag or digest) points to in `repository`: a `HEAD`,
    /// or a `GET` whose body is hashed when the `HEAD` carries no digest.
    pub async fn head_manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let cell = shared(&self.heads, at(ep, repository, reference));
        cell.get_or_init(|| async {
            let url = ep.manifest_url(repository, reference);
            let answer = self
                .authorized(ep, repository, reference, &url, Kind::Head, |auth| {
                    self.manifest_request(ep, Method::HEAD, &url, auth)
                })
                .await?;
            match answer.header("docker-content-digest") {
                Some(digest) => {
                    validate_digest(&digest).map_err(|m| protocol(ep, m))?;
                    let media_type = answer.header(CONTENT_TYPE.as_str());
                    Ok(ManifestHead { digest, media_type })
                }
                None => Ok(self.manifest(ep, repository, reference).await?.head.clone()),
            }
        })
        .await
        .clone()
    }

    /// A manifest's body and identity. The body must be a manifest (its `Content-Type`
    /// one of the types asked for, or JSON that says it is one), and its sha256 must
    /// match the digest the registry claims and, when `reference` is a digest, that.
    pub async fn manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<Arc<Manifest>, RegistryError> {
        let cell = shared(&self.manifests, at(ep, repository, reference));
        cell.get_or_init(|| self.fetch_manifest(ep, repository, reference))
            .await
            .clone()
    }

    async fn fetch_manifest(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<Arc<Manifest>, RegistryError> {
        let url = ep.manifest_url(repository, reference);
        let answer = self
            .authorized(ep, repository, reference, &url, Kind::Get, |auth| {
                self.manifest_request(ep, Method::GET, &url, auth)
            })
            .await?;
        let content_type = answer.header(CONTENT_TYPE.as_str());
        let media_type = manifest_media_type(content_type.as_deref(), &answer.body).map_err(|what| {
            protocol(
                ep,
                format!(
                    "{repository}:{reference} answered 200 with {what}, not an image manifest (a login page, a proxy or a misconfigured mirror?)"
                ),
            )
        })?;
        let digest = sha256(&answer.body);
        for expected in [
            answer.header("docker-content-digest").as_deref(),
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
        Ok(Arc::new(Manifest {
            head: ManifestHead {
                digest,
                media_type: Some(media_type),
            },
            body: answer.body,
        }))
    }

    /// A blob (an image config), checked against its digest.
    pub async fn blob(
        &self,
        ep: &Endpoint,
        repository: &str,
        digest: &str,
    ) -> Result<Arc<Vec<u8>>, RegistryError> {
        let cell = shared(&self.blobs, at(ep, repository, digest));
        cell.get_or_init(|| async {
            let url = format!(
                "{}/v2/{}/blobs/{digest}",
                ep.base,
                ep.repository(repository)
            );
            let answer = self
                .authorized(ep, repository, digest, &url, Kind::Get, |auth| {
                    with_auth(self.http_for(ep).get(&url), auth)
                })
                .await?;
            let actual = sha256(&answer.body);
            if actual != digest {
                return Err(protocol(ep, format!("blob {digest} hashes to {actual}")));
            }
            Ok(Arc::new(answer.body))
        })
        .await
        .clone()
    }

    /// Announce the repositories of an endpoint that lookups are about to need, so
    /// their tokens are asked for together. Returns one repository per new token
    /// request (see [`Client::warm`]).
    pub fn announce(&self, ep: &Endpoint, repositories: &[String]) -> Vec<String> {
        let named: HashMap<String, &String> =
            repositories.iter().map(|r| (ep.repository(r), r)).collect();
        self.tokens
            .announce(&ep.base, repositories.iter().map(|r| ep.repository(r)))
            .into_iter()
            .filter_map(|scoped| named.get(&scoped).map(|r| (*r).clone()))
            .collect()
    }

    /// Ask, ahead of the lookups that need them, for the ping and the token that
    /// `repository` needs; what comes of it waits in the single-flight cells.
    pub async fn warm(&self, ep: &Endpoint, repository: &str) {
        let _ = self.authorization(ep, repository).await;
    }

    /// Send an authorized request about `reference` in `repository` to `url`; a
    /// failure status becomes the error saying what it means.
    async fn authorized(
        &self,
        ep: &Endpoint,
        repository: &str,
        reference: &str,
        url: &str,
        kind: Kind,
        make: impl Fn(Option<&str>) -> RequestBuilder,
    ) -> Result<Fetched, RegistryError> {
        let answer = self.authorized_answer(ep, repository, kind, make).await?;
        if !answer.status.is_success() {
            return Err(self
                .error_for(ep, repository, reference, answer.status, url)
                .await);
        }
        Ok(answer)
    }

    /// Send an authorized request for `repository`. When a token asked for several
    /// repositories is refused here, this repository gets a token of its own and the
    /// request is sent once more; if that works, the registry does not honour batched
    /// tokens, and every later lookup of it asks one token per repository.
    async fn authorized_answer(
        &self,
        ep: &Endpoint,
        repository: &str,
        kind: Kind,
        make: impl Fn(Option<&str>) -> RequestBuilder,
    ) -> Result<Fetched, RegistryError> {
        let auth = self.authorization(ep, repository).await?;
        let answer = self.send(ep, kind, || make(auth.header.as_deref())).await?;
        let refused = matches!(
            answer.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        );
        if !(refused && auth.shared) {
            return Ok(answer);
        }
        let own = self.own_token(ep, repository).await?;
        let again = self.send(ep, kind, || make(own.header.as_deref())).await?;
        if again.status.is_success() && self.tokens.fall_back(&ep.base) {
            tracing::info!(
                "{}: a token asked for several repositories did not cover {repository}; asking one token per repository for the rest of the run",
                ep.label()
            );
        }
        Ok(again)
    }

    /// The `Authorization` for pulling `repository`, if one is needed.
    async fn authorization(&self, ep: &Endpoint, repository: &str) -> Result<Auth, RegistryError> {
        let challenge = self.challenge(ep).await?;
        let (realm, service) = match challenge {
            Challenge::None => {
                return Ok(Auth {
                    header: None,
                    shared: false,
                });
            }
            Challenge::Basic => {
                let header = self.credential(ep).await?.and_then(|c| c.basic_header());
                return Ok(Auth {
                    header,
                    shared: false,
                });
            }
            Challenge::Bearer { realm, service } => (realm, service),
        };
        let source = self.tokens.source(&ep.base, &ep.repository(repository));
        let batch = source.repositories.len() > 1;
        match self
            .token(ep, &realm, service.as_deref(), repository, source)
            .await
        {
            Ok(token) => Ok(Auth {
                header: token.header.clone(),
                shared: token.scopes > 1,
            }),
            // A token service that refuses a request for several repositories may
            // still grant them one at a time.
            Err(RegistryError::Denied { .. } | RegistryError::Status { .. }) if batch => {
                if self.tokens.fall_back(&ep.base) {
                    tracing::info!(
                        "{}: the token service refused a token for several repositories; asking one token per repository for the rest of the run",
                        ep.label()
                    );
                }
                let token = self.own_token(ep, repository).await?;
                Ok(Auth {
                    header: token.header.clone(),
                    shared: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// A token for `repository` alone (bearer registries only).
    async fn own_token(
        &self,
        ep: &Endpoint,
        repository: &str,
    ) -> Result<Arc<Token>, RegistryError> {
        let Challenge::Bearer { realm, service } = self.challenge(ep).await? else {
            return Err(protocol(
                ep,
                "a token was refused by a registry that asks for none".into(),
            ));
        };
        let source = self.tokens.single(&ep.base, &ep.repository(repository));
        self.token(ep, &realm, service.as_deref(), repository, source)
            .await
    }

    /// The token in `source`'s cell, asking the realm for it if nobody has yet.
    async fn token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        repository: &str,
        source: Source,
    ) -> Result<Arc<Token>, RegistryError> {
        source
            .cell
            .get_or_init(|| self.fetch_token(ep, realm, service, repository, &source.repositories))
            .await
            .clone()
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
            match resp.status {
                s if s.is_success() => Ok(Challenge::None),
                StatusCode::UNAUTHORIZED => {
                    let h = resp.header(WWW_AUTHENTICATE.as_str()).unwrap_or_default();
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

    /// Ask the realm for a token pulling `scoped` (repositories as the endpoint names
    /// them); `repository` names the lookup in errors.
    async fn fetch_token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        repository: &str,
        scoped: &[String],
    ) -> Result<Arc<Token>, RegistryError> {
        let url = auth::token_url(realm, service, scoped).map_err(|m| protocol(ep, m))?;
        let credential = if realm_may_get_credentials(&url) {
            self.credential(ep).await?
        } else {
            None
        };
        let answer = match &credential {
            Some(Credential::IdentityToken(refresh)) => {
                let scopes: Vec<String> = scoped.iter().map(|r| auth::pull_scope(r)).collect();
                let body = {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.append_pair("grant_type", "refresh_token")
                        .append_pair("client_id", "imagepin")
                        .append_pair("refresh_token", refresh)
                        // OAuth2 separates scopes with spaces.
                        .append_pair("scope", &scopes.join(" "));
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
        if !answer.status.is_success() {
            return Err(self.denied(ep, repository, answer.status.as_u16()).await);
        }
        let body: TokenResponse = serde_json::from_slice(&answer.body).map_err(|e| {
            protocol(
                ep,
                format!("token endpoint answered with malformed JSON: {e}"),
            )
        })?;
        let (token, lifetime) = body.into_token();
        Ok(Arc::new(Token::new(token, lifetime, scoped.len())))
    }

    /// Send with bounded retries: 429 waits as `Retry-After` says (capped), 5xx and
    /// connection failures back off exponentially with jitter. A success's body is read
    /// here, so a connection dropped in the middle of it is retried like one dropped
    /// before the answer.
    async fn send(
        &self,
        ep: &Endpoint,
        kind: Kind,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Fetched, RegistryError> {
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
            let failure = match client.execute(request).await {
                Ok(resp) => {
                    let status = resp.status();
                    tracing::info!(%method, %url, status = status.as_u16(), attempt, "answer");
                    if let Some(remaining) = header(&resp, "ratelimit-remaining") {
                        self.note_rate_limit(&ep.registry, remaining);
                    }
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || matches!(status.as_u16(), 500 | 502 | 503 | 504);
                    if !retryable {
                        let headers = resp.headers().clone();
                        let body = if status.is_success() && method != Method::HEAD {
                            match read_body(resp, MAX_BODY_BYTES).await {
                                Ok(Some(body)) => body,
                                Ok(None) => {
                                    return Err(protocol(
                                        ep,
                                        format!(
                                            "the answer from {url} is larger than {MAX_BODY_BYTES} bytes"
                                        ),
                                    ));
                                }
                                Err(e) => {
                                    tracing::info!(%method, %url, attempt, error = %chain(&e), "answer cut off");
                                    if let Some(wait) = self.retry_wait(&e, true, last, attempt) {
                                        tokio::time::sleep(wait).await;
                                        continue;
                                    }
                                    return Err(network(ep, &e));
                                }
                            }
                        } else {
                            Vec::new()
                        };
                        return Ok(Fetched {
                            status,
                            headers,
                            body,
                        });
                    }
                    if last {
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            return Err(RegistryError::RateLimited {
                                registry: ep.label(),
                                attempts: attempt,
                            });
                        }
                        return Err(RegistryError::ServerError {
                            registry: ep.label(),
                            status: status.as_u16(),
                            url,
                            attempts: attempt,
                        });
                    }
                    let asked = retry_after(&resp);
                    let wait = asked.unwrap_or_else(|| backoff(attempt)).min(MAX_WAIT);
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    if wait >= Duration::from_secs(5) {
                        self.say_wait(ep, status.as_u16(), wait, asked.is_some());
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => e,
            };
            match self.retry_wait(&failure, false, last, attempt) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(network(ep, &failure)),
            }
        }
    }

    /// How long to wait before trying again after `e`, counting the retry; `None` when
    /// it is not worth another attempt. Every failure to read a body (reqwest calls a
    /// connection dropped half-way a decode error) is worth one.
    fn retry_wait(
        &self,
        e: &reqwest::Error,
        reading_body: bool,
        last: bool,
        attempt: u32,
    ) -> Option<Duration> {
        let transient = reading_body || e.is_connect() || e.is_timeout() || e.is_request();
        if last || is_permanent(e) || !transient {
            return None;
        }
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        Some(backoff(attempt))
    }

    /// Remember the latest `RateLimit-Remaining` a registry sent.
    /// A long wait is said, once per registry, so that a CI log does not go quiet.
    fn say_wait(&self, ep: &Endpoint, status: u16, wait: Duration, asked: bool) {
        let mut said = self.waits_said.lock().unwrap_or_else(|p| p.into_inner());
        if said.insert(ep.label()) {
            crate::report::warning(&format!(
                "{}: HTTP {status}; waiting {} s before asking again{} (up to {MAX_ATTEMPTS} attempts a request; further waits not shown)",
                ep.label(),
                wait.as_secs(),
                if asked {
                    ", as its Retry-After asks"
                } else {
                    ""
                }
            ));
        }
    }

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
