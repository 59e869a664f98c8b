//! Where a registry's HTTP API lives. Docker Hub names (`docker.io`) are served by
//! `registry-1.docker.io`; loopback registries speak plain HTTP like Docker assumes;
//! every other registry speaks HTTPS. A mirror replaces the whole location, optionally
//! with a path prefix put in front of every repository (pull-through proxies). Per-host
//! settings can force plain HTTP (`insecure`) or HTTPS with an extra CA (`ca`).

use std::collections::HashMap;
use std::path::PathBuf;

use reqwest::Url;

/// The normalised registry name used as a key: `index.docker.io` and
/// `registry-1.docker.io` are `docker.io`.
pub fn canonical_registry(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => lower,
    }
}

/// How to reach one registry host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// A PEM bundle of extra CA certificates to trust for this host (implies HTTPS).
    pub ca: Option<PathBuf>,
    /// Speak plain HTTP to this host (credentials are then never sent unless it is
    /// loopback).
    pub insecure: bool,
}

/// Registry name → mirror URL, and host → settings.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    mirrors: HashMap<String, Url>,
    hosts: HashMap<String, HostSettings>,
}

impl Routing {
    pub fn set_host(&mut self, host: &str, settings: HostSettings) {
        self.hosts.insert(canonical_registry(host), settings);
    }

    pub fn host(&self, host: &str) -> Option<&HostSettings> {
        self.hosts.get(&canonical_registry(host))
    }

    /// Hosts with an extra CA bundle.
    pub fn cas(&self) -> impl Iterator<Item = (&String, &PathBuf)> {
        self.hosts
            .iter()
            .filter_map(|(h, s)| s.ca.as_ref().map(|c| (h, c)))
    }

    /// Parse `REGISTRY=URL`.
    pub fn add_spec(&mut self, spec: &str) -> Result<(), String> {
        let (registry, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("--mirror {spec:?}: expected REGISTRY=URL"))?;
        self.add(registry, url)
    }

    pub fn add(&mut self, registry: &str, url: &str) -> Result<(), String> {
        let registry = registry.trim();
        let url = url.trim();
        if registry.is_empty() {
            return Err(format!(
                "mirror {:?}: the registry name is empty",
                redact(url)
            ));
        }
        if !url.contains("://") {
            return Err(format!(
                "mirror for {registry}: {:?} needs a scheme, e.g. http://{0} or https://{0}",
                redact(url)
            ));
        }
        let parsed = Url::parse(url).map_err(|e| {
            format!(
                "mirror for {registry}: {:?} is not a URL ({e})",
                redact(url)
            )
        })?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!(
                "mirror for {registry}: credentials in the URL are not used; put them in docker config.json for the mirror's host"
            ));
        }
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "mirror for {registry}: {url:?} must be an http:// or https:// URL with a host"
            ));
        }
        self.mirrors.insert(canonical_registry(registry), parsed);
        Ok(())
    }

    pub fn get(&self, registry: &str) -> Option<&Url> {
        self.mirrors.get(&canonical_registry(registry))
    }
}

/// Where to send requests for one registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The registry as named in references (`docker.io`, `ghcr.io`, `localhost:5000`).
    pub registry: String,
    /// `scheme://host[:port]`, no trailing slash.
    pub base: String,
    /// Path prefix put before every repository (no leading or trailing `/`).
    pub prefix: String,
}

impl Endpoint {
    pub fn for_registry(registry: &str, routing: &Routing) -> Endpoint {
        let registry = canonical_registry(registry);
        if let Some(url) = routing.get(&registry) {
            let mut base = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
            if let Some(port) = url.port() {
                base.push_str(&format!(":{port}"));
            }
            return Endpoint {
                prefix: url.path().trim_matches('/').to_string(),
                registry,
                base,
            };
        }
        let host = routing.host(&registry);
        let base = if host.is_some_and(|h| h.insecure) {
            format!("http://{registry}")
        } else if registry == "docker.io" {
            "https://registry-1.docker.io".to_string()
        } else if is_loopback(&registry) && host.is_none_or(|h| h.ca.is_none()) {
            format!("http://{registry}")
        } else {
            format!("https://{registry}")
        };
        Endpoint {
            registry,
            base,
            prefix: String::new(),
        }
    }

    /// The repository path as this endpoint knows it.
    pub fn repository(&self, repository: &str) -> String {
        if self.prefix.is_empty() {
            repository.to_string()
        } else {
            format!("{}/{}", self.prefix, repository)
        }
    }

    pub fn manifest_url(&self, repository: &str, reference: &str) -> String {
        format!(
            "{}/v2/{}/manifests/{}",
            self.base,
            self.repository(repository),
            reference
        )
    }

    /// How errors name this registry: `docker.io`, or `docker.io (mirror host:port)`
    /// (`host:port/prefix` for a mirror whose URL has a path, so a wrong path shows).
    pub fn label(&self) -> String {
        let host = self.credential_host();
        if self.base == format!("http://{}", self.registry)
            || self.base == format!("https://{}", self.registry)
            || (self.registry == "docker.io" && host == "docker.io")
        {
            self.registry.clone()
        } else {
            format!("{} (mirror {})", self.registry, self.mirror_name())
        }
    }

    /// Where a lookup was made, for messages that say what was not found: the registry,
    /// or the mirror that stood in for it (then the registry itself was not asked).
    pub fn asked(&self) -> String {
        if self.label() == self.registry {
            self.registry.clone()
        } else {
            format!(
                "the mirror {} (asked for {}; {} itself was not asked)",
                self.mirror_name(),
                self.registry,
                self.registry
            )
        }
    }

    /// A mirror as messages name it: its host, and the path put before repositories.
    fn mirror_name(&self) -> String {
        let host = self.credential_host();
        if self.prefix.is_empty() {
            host
        } else {
            format!("{host}/{}", self.prefix)
        }
    }

    /// The host requests go to, as one key however it is named: the lowest of the
    /// addresses its name resolves to, with the port (`127.0.0.1:5000` for both
    /// `localhost:5000` and `127.0.0.1:5000`); the name and port when it does not
    /// resolve. Used to count `--concurrency` per host.
    pub fn host_key(&self) -> String {
        use std::net::ToSocketAddrs;
        let Ok(url) = Url::parse(&self.base) else {
            return self.base.clone();
        };
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(443);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match (bare, port).to_socket_addrs() {
            Ok(addrs) => match addrs.min() {
                Some(addr) => addr.to_string(),
                None => format!("{host}:{port}"),
            },
            Err(_) => format!("{host}:{port}"),
        }
    }

    /// Whether requests go over plain HTTP.
    pub fn is_plain_http(&self) -> bool {
        self.base.starts_with("http://")
    }

    /// The host whose credentials are used: where the requests go (a mirror's host for
    /// a mirrored registry), with Docker Hub's API host known as `docker.io`.
    pub fn credential_host(&self) -> String {
        let host = self.base.split("://").nth(1).unwrap_or("");
        match host {
            "registry-1.docker.io" => "docker.io".to_string(),
            h => h.to_string(),
        }
    }

    /// Credentials travel only over TLS, or to a loopback registry.
    pub fn may_send_credentials(&self) -> bool {
        !self.is_plain_http() || is_loopback(&self.credential_host())
    }
}

/// A URL for messages, with anything before an `@` in its authority hidden.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let prefix = if scheme.is_empty() {
                String::new()
            } else {
                format!("{scheme}://")
            };
            format!("{prefix}***@{}", &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

/// `localhost`, 127.0.0.0/8 and `::1`, with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoints() {
        let m = Routing::default();
        let hub = Endpoint::for_registry("index.docker.io", &m);
        assert_eq!(hub.registry, "docker.io");
        assert_eq!(hub.base, "https://registry-1.docker.io");
        assert_eq!(
            Endpoint::for_registry("ghcr.io", &m).base,
            "https://ghcr.io"
        );
        assert_eq!(
            Endpoint::for_registry("localhost:5000", &m).base,
            "http://localhost:5000"
        );
        assert_eq!(
            Endpoint::for_registry("127.0.0.1:5000", &m).base,
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            Endpoint::for_registry("[::1]:5000", &m).base,
            "http://[::1]:5000"
        );
        assert_eq!(
            Endpoint::for_registry("127.example.com", &m).base,
            "https://127.example.com"
        );
    }

    #[test]
    fn mirrors_with_prefix() {
        let mut m = Routing::default();
        m.add_spec("docker.io=https://harbor.example/dockerhub-proxy/")
            .unwrap();
        let e = Endpoint::for_registry("docker.io", &m);
        assert_eq!(
            e.manifest_url("library/nginx", "1.25"),
            "https://harbor.example/v2/dockerhub-proxy/library/nginx/manifests/1.25"
        );
        assert!(m.add_spec("docker.io").is_err());
        assert!(m.add_spec("docker.io=ftp://x").is_err());
        assert!(m.add_spec("=http://x").is_err());
        let e = m
            .add_spec("docker.io=https://u:s3cret@h.example/x")
            .unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let e = m
            .add_spec("docker.io=u:s3cret@h.example:99999/x")
            .unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let e = m.add_spec("docker.io=127.0.0.1:5000").unwrap_err();
        assert!(e.contains("http://127.0.0.1:5000"), "{e}");
        let e = Endpoint::for_registry("docker.io", &m);
        assert_eq!(
            e.label(),
            "docker.io (mirror harbor.example/dockerhub-proxy)"
        );
        assert!(
            e.asked()
                .starts_with("the mirror harbor.example/dockerhub-proxy (asked for docker.io")
        );
        assert_eq!(Endpoint::for_registry("ghcr.io", &m).label(), "ghcr.io");
    }

    #[test]
    fn one_host_under_two_names_is_one_key() {
        let r = Routing::default();
        let key = |name: &str| Endpoint::for_registry(name, &r).host_key();
        assert_eq!(key("localhost:5000"), key("127.0.0.1:5000"));
        assert_ne!(key("127.0.0.1:5000"), key("127.0.0.1:5001"));
        let mut m = Routing::default();
        m.add("docker.io", "https://mirror.invalid").unwrap();
        let a = Endpoint::for_registry("docker.io", &m);
        assert_eq!(a.host_key(), "mirror.invalid:443");
        assert!(
            a.asked()
                .contains("the mirror mirror.invalid (asked for docker.io")
        );
        assert_eq!(Endpoint::for_registry("ghcr.io", &r).asked(), "ghcr.io");
    }

    #[test]
    fn host_settings_choose_the_scheme() {
        let mut r = Routing::default();
        r.set_host(
            "legacy.internal",
            HostSettings {
                ca: None,
                insecure: true,
            },
        );
        r.set_host(
            "127.0.0.1:5443",
            HostSettings {
                ca: Some("ca.pem".into()),
                insecure: false,
            },
        );
        assert_eq!(
            Endpoint::for_registry("legacy.internal", &r).base,
            "http://legacy.internal"
        );
        assert_eq!(
            Endpoint::for_registry("127.0.0.1:5443", &r).base,
            "https://127.0.0.1:5443"
        );
        assert!(!Endpoint::for_registry("legacy.internal", &r).may_send_credentials());
        assert!(Endpoint::for_registry("127.0.0.1:5443", &r).may_send_credentials());
    }
}
