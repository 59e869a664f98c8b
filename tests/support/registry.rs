//! A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution) started
//! on a free loopback port with its own storage, seeded through the registry HTTP API
//! (no Docker engine), and its access log captured so tests can count the requests a
//! command made. Each test starts its own instance; dropping it stops the process.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use sha2::{Digest, Sha256};

/// User-Agent of the harness's own requests, so they can be told apart in the log.
const HARNESS_AGENT: &str = "imagepin-test-harness";

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// One request from the registry's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub user_agent: String,
}

#[derive(Default)]
struct Log {
    lines: Vec<String>,
}

pub struct TestRegistry {
    child: Child,
    port: u16,
    /// `https` for a TLS registry (then `ca_pem` holds the CA that signed it).
    scheme: &'static str,
    ca_pem: Option<String>,
    _dir: tempfile::TempDir,
    http: Client,
    log: Arc<(Mutex<Log>, Condvar)>,
    markers: Mutex<u64>,
}

/// The registry binary: `IMAGEPIN_TEST_REGISTRY` or `docker-registry` on PATH.
fn registry_binary() -> String {
    let bin = std::env::var("IMAGEPIN_TEST_REGISTRY").unwrap_or_else(|_| "docker-registry".into());
    let found = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "the integration tests need a real registry: `{bin}` was not found. \
         Run `scripts/test` (installs it as root) or `apt-get install -y docker-registry`."
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl TestRegistry {
    /// Start a registry with delete enabled on `127.0.0.1:<free port>` and wait until
    /// `GET /v2/` answers.
    pub fn start() -> TestRegistry {
        Self::start_with(None, false)
    }

    /// Start a registry that demands HTTP basic auth (htpasswd, bcrypt) for `user`.
    pub fn start_with_basic_auth(user: &str, password: &str) -> TestRegistry {
        Self::start_with(Some((user, password)), false)
    }

    /// Start a registry speaking HTTPS with a leaf certificate (SANs 127.0.0.1,
    /// localhost, ::1) signed by a fresh test CA; `ca_pem()` is that CA.
    pub fn start_tls() -> TestRegistry {
        Self::start_with(None, true)
    }

    /// The test CA of a TLS registry, PEM.
    pub fn ca_pem(&self) -> &str {
        self.ca_pem.as_deref().expect("a TLS registry")
    }

    fn start_with(basic: Option<(&str, &str)>, tls: bool) -> TestRegistry {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bin = registry_binary();
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some((user, password)) = basic {
            let value = format!(
                "Basic {}",
                base64_encode(format!("{user}:{password}").as_bytes())
            );
            headers.insert("authorization", value.parse().expect("header"));
        }
        let tls_material = tls.then(test_pki);
        let mut builder = Client::builder()
            .user_agent(HARNESS_AGENT)
            .default_headers(headers)
            .timeout(Duration::from_secs(10));
        if let Some(pki) = &tls_material {
            let ca = reqwest::Certificate::from_pem(pki.ca.as_bytes()).expect("ca");
            builder = builder.tls_certs_only([ca]);
        }
        let http = builder.build().expect("http client");
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let config = dir.path().join("config.yml");
            let mut yaml = config_yaml(dir.path(), port);
            if let Some((user, password)) = basic {
                let hash = bcrypt::hash(password, 4).expect("bcrypt");
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("write htpasswd");
                yaml.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            if let Some(pki) = &tls_material {
                let cert = dir.path().join("cert.pem");
                let key = dir.path().join("key.pem");
                std::fs::write(&cert, &pki.leaf).expect("write cert");
                std::fs::write(&key, &pki.key).expect("write key");
                // Insert under `http:` (the last section of the config).
                yaml.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    cert.display(),
                    key.display()
                ));
            }
            std::fs::write(&config, yaml).expect("write config");
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start docker-registry");
            let log = Arc::new((Mutex::new(Log::default()), Condvar::new()));
            for stream in [
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            ]
            .into_iter()
            .flatten()
            {
                let log = log.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        let (lock, cvar) = &*log;
                        lock.lock().expect("log lock").lines.push(line);
                        cvar.notify_all();
                    }
                });
            }
            let registry = TestRegistry {
                child,
                port,
                scheme: if tls { "https" } else { "http" },
                ca_pem: tls_material.as_ref().map(|p| p.ca.clone()),
                _dir: dir,
                http: http.clone(),
                log,
                markers: Mutex::new(0),
            };
            if registry.wait_ready() {
                return registry;
            }
            // Port taken between probing and binding, or a slow start: try another.
        }
        panic!("docker-registry did not start on loopback after 5 attempts");
    }

    fn wait_ready(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = format!("{}/v2/", self.url());
        while Instant::now() < deadline {
            if let Ok(resp) = self.http.get(&url).send()
                && resp.status().as_u16() == 200
            {
                return true;
            }
            // Poll the readiness condition again shortly; not a synchronisation sleep.
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The registry's storage, which a second registry can serve too.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host())
    }

    /// Upload a blob (POST then PUT, as 2.8 needs) and return its digest.
    fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let resp = self
            .http
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.url()))
            .send()
            .expect("start upload");
        assert_eq!(resp.status().as_u16(), 202, "blob upload start for {repo}");
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.url())
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let resp = self
            .http
            .put(format!("{location}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .expect("finish upload");
        assert_eq!(resp.status().as_u16(), 201, "blob upload for {repo}");
        digest
    }

    /// PUT a manifest under `reference` (a tag or digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let resp = self
            .http
            .put(format!("{}/v2/{repo}/manifests/{reference}", self.url()))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .expect("put manifest");
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        assert_eq!(status, 201, "manifest {repo}:{reference}: {text}");
        sha256(body)
    }

    /// A single-platform manifest of the given type (config + one tiny layer);
    /// returns (digest, size, bytes).
    fn image_manifest(&self, repo: &str, salt: &str, platform: &str, docker: bool) -> Vec<u8> {
        let (os, arch, variant) = split_platform(platform);
        let mut config = serde_json::json!({
            "architecture": arch, "os": os,
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {"Labels": {"salt": salt}}
        });
        if let Some(v) = variant {
            config["variant"] = v.into();
        }
        let config = serde_json::to_vec(&config).expect("config json");
        let layer = format!("layer {salt} {platform}").into_bytes();
        let config_digest = self.push_blob(repo, &config);
        let layer_digest = self.push_blob(repo, &layer);
        let (mt, config_mt, layer_mt) = if docker {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            )
        } else {
            (
                OCI_MANIFEST,
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar",
            )
        };
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "config": {"mediaType": config_mt, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": layer_mt, "digest": layer_digest, "size": layer.len()}]
        }))
        .expect("manifest json")
    }

    /// Push a single-platform OCI image under `repo:tag`; `salt` makes distinct content.
    pub fn push_image(&self, repo: &str, tag: &str, salt: &str) -> String {
        let m = self.image_manifest(repo, salt, "linux/amd64", false);
        self.put_manifest(repo, tag, OCI_MANIFEST, &m)
    }

    /// Push a single-platform Docker schema2 image.
    pub fn push_docker_image(&self, repo: &str, tag: &str, salt: &str) -> String {
        let m = self.image_manifest(repo, salt, "linux/amd64", true);
        self.put_manifest(repo, tag, DOCKER_MANIFEST, &m)
    }

    /// Push a multi-arch OCI index; returns (index digest, child digests in order).
    pub fn push_index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
    ) -> (String, Vec<String>) {
        self.push_multi(repo, tag, platforms, salt, false)
    }

    /// Push a multi-arch Docker manifest list.
    pub fn push_manifest_list(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
    ) -> (String, Vec<String>) {
        self.push_multi(repo, tag, platforms, salt, true)
    }

    fn push_multi(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
        docker: bool,
    ) -> (String, Vec<String>) {
        let (child_mt, index_mt) = if docker {
            (DOCKER_MANIFEST, DOCKER_LIST)
        } else {
            (OCI_MANIFEST, OCI_INDEX)
        };
        let mut entries = Vec::new();
        let mut children = Vec::new();
        for platform in platforms {
            let m = self.image_manifest(repo, salt, platform, docker);
            let digest = sha256(&m);
            self.put_manifest(repo, &digest, child_mt, &m);
            let (os, arch, variant) = split_platform(platform);
            let mut p = serde_json::json!({"os": os, "architecture": arch});
            if let Some(v) = variant {
                p["variant"] = v.into();
            }
            entries.push(serde_json::json!({
                "mediaType": child_mt, "digest": digest, "size": m.len(), "platform": p
            }));
            children.push(digest);
        }
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": index_mt, "manifests": entries
        }))
        .expect("index json");
        (self.put_manifest(repo, tag, index_mt, &index), children)
    }

    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let resp = self
            .http
            .delete(format!("{}/v2/{repo}/manifests/{digest}", self.url()))
            .send()
            .expect("delete manifest");
        assert_eq!(resp.status().as_u16(), 202, "delete {repo}@{digest}");
    }

    /// HEAD with all four manifest types; the digest, or None on 404.
    pub fn head_digest(&self, repo: &str, reference: &str) -> Option<String> {
        let resp = self
            .http
            .head(format!("{}/v2/{repo}/manifests/{reference}", self.url()))
            .header("accept", ACCEPT_ALL)
            .send()
            .expect("head manifest");
        if resp.status().as_u16() == 404 {
            return None;
        }
        assert!(
            resp.status().is_success(),
            "HEAD {repo}:{reference}: {}",
            resp.status()
        );
        resp.headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// A position in the access log: requests after it are what a command made.
    pub fn mark(&self) -> usize {
        self.flush_log();
        self.log.0.lock().expect("log lock").lines.len()
    }

    /// Every request served after `mark`, except the harness's own.
    pub fn requests_since(&self, mark: usize) -> Vec<Request> {
        self.flush_log();
        let log = self.log.0.lock().expect("log lock");
        log.lines[mark..]
            .iter()
            .filter_map(|l| parse_access_line(l))
            .filter(|r| r.user_agent != HARNESS_AGENT)
            .collect()
    }

    /// Make a uniquely marked request and wait until its log line arrives: every line
    /// for earlier requests is then in the log too.
    fn flush_log(&self) {
        let n = {
            let mut m = self.markers.lock().expect("marker lock");
            *m += 1;
            *m
        };
        let marker = format!("/v2/?imagepin-marker={n}");
        let _ = self.http.get(format!("{}{marker}", self.url())).send();
        let (lock, cvar) = &*self.log;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut log = lock.lock().expect("log lock");
        while !log.lines.iter().rev().any(|l| l.contains(&marker)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "registry access log did not show {marker}");
            log = cvar.wait_timeout(log, left).expect("log wait").0;
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http:` comes last so TLS settings can be appended under it.
fn config_yaml(dir: &Path, port: u16) -> String {
    format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.join("data").display()
    )
}

struct Pki {
    ca: String,
    leaf: String,
    key: String,
}

/// A test CA and a leaf certificate it signed (rustls rejects a CA used directly as
/// the server's certificate).
fn test_pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_params = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "::1".to_string(),
    ])
    .expect("leaf params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    Pki {
        ca: ca_cert.pem(),
        leaf: leaf.pem(),
        key: leaf_key.serialize_pem(),
    }
}

fn split_platform(p: &str) -> (&str, &str, Option<&str>) {
    let mut parts = p.split('/');
    let os = parts.next().unwrap_or("linux");
    let arch = parts.next().unwrap_or("amd64");
    (os, arch, parts.next())
}

/// Standard base64 with padding (for test credentials).
pub fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Parse a combined-log-format line:
/// `127.0.0.1 - - [date] "HEAD /v2/x/manifests/1 HTTP/1.1" 404 91 "" "agent"`.
fn parse_access_line(line: &str) -> Option<Request> {
    let mut quoted = line.split('"');
    let _prefix = quoted.next()?;
    let request = quoted.next()?;
    let after = quoted.next()?;
    let _referer = quoted.next()?;
    let _ = quoted.next()?;
    let user_agent = quoted.next()?.to_string();
    let mut req = request.split_whitespace();
    let method = req.next()?.to_string();
    let path = req.next()?.to_string();
    let status = after.split_whitespace().next()?.parse().ok()?;
    Some(Request {
        method,
        path,
        status,
        user_agent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_access_lines() {
        let r = parse_access_line(
            r#"127.0.0.1 - - [27/Nov/2026:01:09:35 +0000] "HEAD /v2/library/x/manifests/1 HTTP/1.1" 404 91 "" "imagepin/0.1.0""#,
        )
        .expect("parses");
        assert_eq!(r.method, "HEAD");
        assert_eq!(r.path, "/v2/library/x/manifests/1");
        assert_eq!(r.status, 404);
        assert_eq!(r.user_agent, "imagepin/0.1.0");
    }
}
