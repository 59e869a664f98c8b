//! A real OCI registry for integration tests: Debian's `docker-registry` (CNCF
//! distribution 2.8) started on a free loopback port with its own temporary storage,
//! seeded through the registry HTTP API (no Docker engine), and its access log captured
//! so a test can list the requests a command made. Each test starts its own instance;
//! dropping it kills the process, waits for it and removes the storage.
//!
//! 2.8 writes the access log to stdout, one Apache "combined" line per request, when the
//! request's handler returns (`"` and `\` inside quoted fields are backslash-escaped):
//!
//! ```text
//! 127.0.0.1 - - [27/Nov/2026:01:43:50 +0000] "HEAD /v2/foo/manifests/x HTTP/1.1" 404 91 "" "curl/7.88.1"
//! ```
//!
//! Its application log (level `error`) goes to stderr. `start_tls` serves HTTPS (and
//! then HTTP/2) with a leaf certificate from a fresh test CA; `start_with_basic_auth`
//! demands htpasswd credentials. The harness's own requests (readiness, seeding,
//! `head_digest`, log markers) carry the User-Agent `imagepin-test-harness` and are left
//! out of [`TestRegistry::requests_since`].

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// All four manifest types: with fewer, 2.8 answers 404/400 or silently picks a platform.
pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// User-Agent of the harness's own requests, so they can be told apart in the log.
const HARNESS_AGENT: &str = "imagepin-test-harness";
/// Response header carrying a per-instance token: proves a port answers for *this* child.
const INSTANCE_HEADER: &str = "x-imagepin-test-registry";
const READY_DEADLINE: Duration = Duration::from_secs(10);
const LOG_DEADLINE: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 5;

/// One request from the registry's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as logged: path plus query, if any.
    pub path: String,
    pub status: u16,
    pub user_agent: String,
}

pub struct TestRegistry {
    child: Child,
    port: u16,
    /// `https` for a TLS registry (then `ca_pem` holds the CA that signed it).
    scheme: &'static str,
    ca_pem: Option<String>,
    instance: String,
    http: Client,
    output: Arc<Output>,
    markers: AtomicU64,
    /// 2.8 races on concurrent writes to a repository: one push at a time.
    seeding: Mutex<()>,
    _dir: tempfile::TempDir,
}

/// What the child printed, filled by one reader thread per stream.
#[derive(Default)]
struct Output {
    lines: Mutex<Lines>,
    changed: Condvar,
}

#[derive(Default)]
struct Lines {
    access: Vec<String>,
    stderr: Vec<String>,
    stderr_closed: bool,
}

/// The two media-type families a test image can be written in.
struct Format {
    manifest: &'static str,
    index: &'static str,
    config: &'static str,
    layer: &'static str,
}

const OCI: Format = Format {
    manifest: OCI_MANIFEST,
    index: OCI_INDEX,
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar",
};

const DOCKER: Format = Format {
    manifest: DOCKER_MANIFEST,
    index: DOCKER_LIST,
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

enum StartError {
    /// Another process got the port first: try another one.
    PortTaken(String),
    Failed(String),
}

impl TestRegistry {
    /// Start a registry (deletes enabled) on `127.0.0.1:<free port>` and wait until
    /// `GET /v2/` answers.
    pub fn start() -> TestRegistry {
        Self::start_with(None, false)
    }

    /// Start a registry that demands HTTP basic auth (htpasswd, bcrypt) for `user`; the
    /// harness's own requests send those credentials.
    pub fn start_with_basic_auth(user: &str, password: &str) -> TestRegistry {
        Self::start_with(Some((user, password)), false)
    }

    /// Start a registry speaking HTTPS with a leaf certificate (SANs 127.0.0.1,
    /// localhost, ::1) signed by a fresh test CA; [`ca_pem`](Self::ca_pem) is that CA.
    pub fn start_tls() -> TestRegistry {
        Self::start_with(None, true)
    }

    /// The test CA of a TLS registry, PEM.
    pub fn ca_pem(&self) -> &str {
        self.ca_pem.as_deref().expect("a TLS registry")
    }

    fn start_with(basic: Option<(&str, &str)>, tls: bool) -> TestRegistry {
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let bin = registry_binary();
        // reqwest's `rustls-no-provider` needs a process-wide provider even for plain
        // HTTP; a second install (another test got there first) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pki = tls.then(test_pki);
        let http = harness_client(basic, pki.as_ref());
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let dir = storage_dir();
            let port = free_port();
            let n = STARTED.fetch_add(1, Ordering::Relaxed);
            let instance = format!("{}-{n}-{port}", std::process::id());
            let mut config = config_yaml(dir.path(), port, &instance);
            if let Some((user, password)) = basic {
                let htpasswd = dir.path().join("htpasswd");
                let hash = bcrypt::hash(password, 4).expect("bcrypt hash");
                std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            if let Some(pki) = &pki {
                let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
                std::fs::write(&cert, &pki.leaf).expect("write certificate");
                std::fs::write(&key, &pki.key).expect("write key");
                // Under `http:`, the config's last section.
                config.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    cert.display(),
                    key.display()
                ));
            }
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write registry config");
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
            let output = Arc::new(Output::default());
            capture(child.stdout.take().expect("stdout"), &output, false);
            capture(child.stderr.take().expect("stderr"), &output, true);
            let mut registry = TestRegistry {
                child,
                port,
                scheme: if tls { "https" } else { "http" },
                ca_pem: pki.as_ref().map(|p| p.ca.clone()),
                instance,
                http: http.clone(),
                output,
                markers: AtomicU64::new(0),
                seeding: Mutex::new(()),
                _dir: dir,
            };
            match registry.wait_ready() {
                Ok(()) => return registry,
                Err(StartError::PortTaken(why)) => last = why, // dropped: killed; next port
                Err(StartError::Failed(why)) => panic!("docker-registry did not start: {why}"),
            }
        }
        panic!("docker-registry found no free port in {START_ATTEMPTS} attempts: {last}");
    }

    /// Poll `GET /v2/` until this child answers it, it exits, or the deadline passes.
    fn wait_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + READY_DEADLINE;
        let url = format!("{}/v2/", self.url());
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = self.stderr_after_exit();
                return Err(if log.contains("address already in use") {
                    StartError::PortTaken(log)
                } else {
                    StartError::Failed(format!("exited with {status}: {log}"))
                });
            }
            if Instant::now() > deadline {
                return Err(StartError::Failed(format!(
                    "GET {url} not answered within {READY_DEADLINE:?}: {}",
                    self.stderr_tail()
                )));
            }
            // A short timeout: a port held by a process that never answers must not
            // hide this child's exit.
            let probe = self.http.get(&url).timeout(Duration::from_millis(500));
            if let Ok(resp) = probe.send() {
                let ours = resp
                    .headers()
                    .get(INSTANCE_HEADER)
                    .is_some_and(|v| v.as_bytes() == self.instance.as_bytes());
                return match resp.status().as_u16() {
                    _ if !ours => Err(StartError::PortTaken(format!(
                        "another server answers on port {}",
                        self.port
                    ))),
                    200 => Ok(()),
                    code => Err(StartError::Failed(format!("GET /v2/ answered {code}"))),
                };
            }
            // Readiness poll interval (the condition is re-checked, not assumed).
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host())
    }

    /// The registry's storage, which a second registry can serve too.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// Process id of the registry (gone once the `TestRegistry` is dropped).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Push a single-platform (linux/amd64) OCI image under `repo:tag`; returns its
    /// manifest digest. The digest depends only on salt, platform and format: the same
    /// salt gives the same digest (in any repository), a new salt moves the tag.
    pub fn push_image(&self, repo: &str, tag: &str, salt: &str) -> String {
        let _one_writer = self.seeding();
        let manifest = self.upload_image(repo, "linux/amd64", salt, &OCI);
        self.put(repo, tag, OCI.manifest, &manifest)
    }

    /// [`push_image`](Self::push_image) for another platform (`"linux/arm64/v8"`).
    pub fn push_platform_image(&self, repo: &str, tag: &str, platform: &str, salt: &str) -> String {
        let _one_writer = self.seeding();
        let manifest = self.upload_image(repo, platform, salt, &OCI);
        self.put(repo, tag, OCI.manifest, &manifest)
    }

    /// [`push_image`](Self::push_image) with Docker schema2 media types.
    pub fn push_docker_image(&self, repo: &str, tag: &str, salt: &str) -> String {
        let _one_writer = self.seeding();
        let manifest = self.upload_image(repo, "linux/amd64", salt, &DOCKER);
        self.put(repo, tag, DOCKER.manifest, &manifest)
    }

    /// Push a multi-arch OCI index with one child per platform (`"linux/amd64"`,
    /// `"linux/arm64/v8"`); returns (index digest, child digests in order).
    pub fn push_index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
    ) -> (String, Vec<String>) {
        self.push_multi(repo, tag, platforms, salt, &OCI)
    }

    /// [`push_index`](Self::push_index) as a Docker manifest list.
    pub fn push_manifest_list(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
    ) -> (String, Vec<String>) {
        self.push_multi(repo, tag, platforms, salt, &DOCKER)
    }

    /// PUT raw manifest bytes under a tag or digest; returns their digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let _one_writer = self.seeding();
        self.put(repo, reference, media_type, body)
    }

    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let _one_writer = self.seeding();
        let url = format!("{}/v2/{repo}/manifests/{digest}", self.url());
        expect_status(
            &format!("DELETE {repo}@{digest}"),
            self.http.delete(url),
            202,
        );
    }

    /// HEAD a manifest with all four manifest types in `Accept`: its digest, or `None`
    /// on 404.
    pub fn head_digest(&self, repo: &str, reference: &str) -> Option<String> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.url());
        let resp = self
            .http
            .head(url)
            .header("accept", ACCEPT_ALL)
            .send()
            .unwrap_or_else(|e| panic!("HEAD {repo}:{reference}: {e}"));
        match resp.status().as_u16() {
            404 => None,
            200 => Some(
                resp.headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .expect("Docker-Content-Digest header")
                    .to_string(),
            ),
            code => panic!("HEAD {repo}:{reference}: HTTP {code}"),
        }
    }

    /// GET a manifest's bytes as stored.
    pub fn manifest_body(&self, repo: &str, reference: &str) -> Vec<u8> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.url());
        let req = self.http.get(url).header("accept", ACCEPT_ALL);
        expect_status(&format!("GET {repo}:{reference}"), req, 200)
            .bytes()
            .expect("manifest body")
            .to_vec()
    }

    /// A position in the access log; [`requests_since`](Self::requests_since) lists
    /// what was served after it.
    pub fn mark(&self) -> usize {
        self.sync_log()
    }

    /// Every request served after `mark` (0: since start), in log order, except the
    /// harness's own.
    pub fn requests_since(&self, mark: usize) -> Vec<Request> {
        let end = self.sync_log();
        let lines = self.output.lock();
        lines.access[mark.min(end)..end]
            .iter()
            .filter_map(|line| parse_access_line(line))
            .filter(|r| r.user_agent != HARNESS_AGENT)
            .collect()
    }

    /// Send a uniquely marked request and wait until its access-log line arrives; every
    /// request answered before it was logged before it. Returns the count of lines up to
    /// and including the marker.
    fn sync_log(&self) -> usize {
        let n = self.markers.fetch_add(1, Ordering::Relaxed);
        let target = format!("/v2/?imagepin-harness-marker={n}");
        expect_status(
            "log marker request",
            self.http.get(format!("{}{target}", self.url())),
            200,
        );
        let needle = format!("\"GET {target} ");
        let deadline = Instant::now() + LOG_DEADLINE;
        let mut lines = self.output.lock();
        loop {
            if let Some(i) = lines.access.iter().rposition(|l| l.contains(&needle)) {
                return i + 1;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the registry's access log never showed {target}"
            );
            lines = self
                .output
                .changed
                .wait_timeout(lines, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn seeding(&self) -> MutexGuard<'_, ()> {
        self.seeding.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_multi(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        salt: &str,
        format: &Format,
    ) -> (String, Vec<String>) {
        assert!(!platforms.is_empty(), "a multi-arch image needs platforms");
        let _one_writer = self.seeding();
        let mut entries = Vec::new();
        let mut children = Vec::new();
        for platform in platforms {
            let manifest = self.upload_image(repo, platform, salt, format);
            let digest = self.put(repo, &sha256(&manifest), format.manifest, &manifest);
            entries.push(json!({
                "mediaType": format.manifest,
                "digest": digest,
                "size": manifest.len(),
                "platform": platform_json(platform),
            }));
            children.push(digest);
        }
        let index = to_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": format.index,
            "manifests": entries,
        }));
        (self.put(repo, tag, format.index, &index), children)
    }

    /// Upload a config and one tiny layer for `platform`; returns the manifest bytes
    /// referencing them (not yet pushed). Layer bytes are opaque: the registry never
    /// looks inside.
    fn upload_image(&self, repo: &str, platform: &str, salt: &str, format: &Format) -> Vec<u8> {
        let layer = format!("imagepin test layer {platform} salt={salt}\n").into_bytes();
        let layer_digest = self.upload_blob(repo, &layer);
        let mut config = platform_json(platform);
        config["rootfs"] = json!({"type": "layers", "diff_ids": [layer_digest]});
        config["config"] = json!({"Labels": {"imagepin.test.salt": salt}});
        let config = to_bytes(&config);
        let config_digest = self.upload_blob(repo, &config);
        to_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": format.manifest,
            "config": {"mediaType": format.config, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": format.layer, "digest": layer_digest, "size": layer.len()}],
        }))
    }

    /// POST then PUT (a monolithic `POST ?digest=` stores nothing in 2.8).
    fn upload_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let what = format!("blob upload to {repo}");
        let start = self
            .http
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.url()));
        let resp = expect_status(&what, start, 202);
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("Location header on upload start");
        // Absolute or relative to the registry: joining handles both.
        let mut url = Url::parse(&self.url())
            .and_then(|base| base.join(location))
            .expect("upload Location is a URL");
        url.query_pairs_mut().append_pair("digest", &digest);
        let put = self
            .http
            .put(url)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec());
        expect_status(&what, put, 201);
        digest
    }

    fn put(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.url());
        let req = self
            .http
            .put(url)
            .header("content-type", media_type)
            .body(body.to_vec());
        let resp = expect_status(&format!("PUT manifest {repo}:{reference}"), req, 201);
        let digest = sha256(body);
        let answered = resp.headers().get("docker-content-digest");
        assert!(
            answered.is_some_and(|v| v.as_bytes() == digest.as_bytes()),
            "registry digest {answered:?} != {digest} for {repo}:{reference}"
        );
        digest
    }

    /// The child has exited: wait (bounded) for its stderr to be read to the end.
    fn stderr_after_exit(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut lines = self.output.lock();
        while !lines.stderr_closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            lines = self
                .output
                .changed
                .wait_timeout(lines, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(lines);
        self.stderr_tail()
    }

    fn stderr_tail(&self) -> String {
        let lines = self.output.lock();
        let from = lines.stderr.len().saturating_sub(20);
        lines.stderr[from..].join("\n")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Read one of the child's streams line by line into `output` until it closes.
fn capture(stream: impl Read + Send + 'static, output: &Arc<Output>, stderr: bool) {
    let output = Arc::clone(output);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut lines = output.lock();
            if stderr {
                lines.stderr.push(line);
            } else {
                lines.access.push(line);
            }
            drop(lines);
            output.changed.notify_all();
        }
        if stderr {
            output.lock().stderr_closed = true;
            output.changed.notify_all();
        }
    });
}

/// The registry binary: `$IMAGEPIN_TEST_REGISTRY`, else `docker-registry` on PATH.
fn registry_binary() -> String {
    let bin = std::env::var("IMAGEPIN_TEST_REGISTRY").unwrap_or_else(|_| "docker-registry".into());
    let runs = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        runs,
        "the integration tests need a real registry, but `{bin}` cannot be run. \
         Run the tests with `scripts/test` (as root it installs the registry), \
         or install it yourself: `apt-get install -y docker-registry`."
    );
    bin
}

/// The harness's HTTP client: tagged User-Agent, never a proxy (loopback only), trusting
/// only the test CA of a TLS registry.
fn harness_client(basic: Option<(&str, &str)>, pki: Option<&Pki>) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some((user, password)) = basic {
        let value = format!(
            "Basic {}",
            base64_encode(format!("{user}:{password}").as_bytes())
        );
        headers.insert("authorization", value.parse().expect("header value"));
    }
    let mut builder = Client::builder()
        .user_agent(HARNESS_AGENT)
        .default_headers(headers)
        .no_proxy()
        .timeout(Duration::from_secs(10));
    if let Some(pki) = pki {
        let ca = reqwest::Certificate::from_pem(pki.ca.as_bytes()).expect("test CA");
        builder = builder.tls_certs_only([ca]);
    }
    builder.build().expect("HTTP client")
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
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let names = ["127.0.0.1", "localhost", "::1"].map(String::from).to_vec();
    let leaf = CertificateParams::new(names)
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    Pki {
        ca: ca_cert.pem(),
        leaf: leaf.pem(),
        key: leaf_key.serialize_pem(),
    }
}

/// A fresh directory for config and storage. 2.8's filesystem driver fsyncs every
/// write, so on tmpfs (`/dev/shm`) seeding is several times faster than on disk.
fn storage_dir() -> tempfile::TempDir {
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("imagepin-registry-");
        b
    };
    builder
        .tempdir_in("/dev/shm")
        .or_else(|_| builder.tempdir())
        .expect("temp dir for the registry")
}

/// A port that was free a moment ago (the registry may still lose it: then retry).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `http:` comes last so TLS settings can be appended under it.
fn config_yaml(dir: &std::path::Path, port: u16, instance: &str) -> String {
    format!(
        "version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Imagepin-Test-Registry: [\"{instance}\"]
",
        data = dir.join("data").display()
    )
}

/// `"linux/arm64/v8"` → `{"os": "linux", "architecture": "arm64", "variant": "v8"}`.
fn platform_json(platform: &str) -> Value {
    let mut parts = platform.split('/');
    let (Some(os), Some(arch)) = (parts.next(), parts.next()) else {
        panic!("platform {platform:?} is not os/arch[/variant]");
    };
    let mut value = json!({"architecture": arch, "os": os});
    if let Some(variant) = parts.next() {
        value["variant"] = variant.into();
    }
    value
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

fn expect_status(what: &str, req: RequestBuilder, status: u16) -> Response {
    let resp = req.send().unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = resp.status().as_u16();
    if got != status {
        let body = resp.text().unwrap_or_default();
        panic!("{what}: HTTP {got}, expected {status}: {body}");
    }
    resp
}

pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Standard base64 with padding (for test credentials).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Parse a combined-format access line into a [`Request`]; `None` for other lines.
pub fn parse_access_line(line: &str) -> Option<Request> {
    // host ident user [time] "request" status size "referer" "user-agent"
    let fields = split_log_fields(line);
    let [_, _, _, _, request, status, _, _, agent, ..] = fields.as_slice() else {
        return None;
    };
    let mut request = request.split(' ');
    Some(Request {
        method: request.next()?.to_string(),
        path: request.next()?.to_string(),
        status: status.parse().ok()?,
        user_agent: agent.clone(),
    })
}

/// Split on spaces, keeping `[…]` and `"…"` (with backslash escapes) as one field each.
fn split_log_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '"' => {
                chars.next();
                let mut field = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => field.extend(chars.next()),
                        '"' => break,
                        _ => field.push(c),
                    }
                }
                fields.push(field);
            }
            '[' => {
                chars.next();
                fields.push(chars.by_ref().take_while(|&c| c != ']').collect());
            }
            _ => {
                let mut field = String::new();
                while let Some(c) = chars.next_if(|&c| c != ' ') {
                    field.push(c);
                }
                fields.push(field);
            }
        }
    }
    fields
}
