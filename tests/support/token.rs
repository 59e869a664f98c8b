//! Bearer-token auth the way Docker Hub, GHCR and Quay do it, with the real registry:
//! a second `docker-registry` serving the storage of a seeded one, configured with
//! `auth: token:`, and a small token server that issues ES256 JWTs signed by a test
//! certificate the registry trusts (sent in the `x5c` header, as Docker Hub does).
//! Anonymous callers may pull `library/*`; a username/password or a refresh token
//! (`identitytoken`) may pull anything. A request may ask for several repositories (a
//! `scope` parameter each in a `GET`, space-separated scopes in a `POST`), and the
//! token then grants each one the caller may pull — or, in the mode that imitates
//! servers which ignore extra scopes, only the first. Every token request is recorded,
//! refused ones too. The token server can listen on another loopback address than the
//! registry, answer after a delay (a realm far away), and the realm the registry names
//! in its challenge can be any URL (a test then routes it to the token server, e.g.
//! through `HTTP_PROXY`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use super::registry::{TestRegistry, base64_encode};

pub const USER: &str = "puller";
pub const PASSWORD: &str = "token-Pa55";
pub const REFRESH_TOKEN: &str = "refresh-0123456789";
const SERVICE: &str = "imagepin-test";
const ISSUER: &str = "imagepin-test-issuer";

/// How a token request identified itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Basic,
    Refresh,
    /// Credentials the server does not accept (answered 401).
    Refused,
}

/// One token request: method, request target as sent (origin-form `/token?…`, or the
/// absolute URL when it came through a proxy), scopes asked for (`scope`: all of them,
/// space-separated), who asked.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub method: String,
    pub target: String,
    pub scope: String,
    pub scopes: Vec<String>,
    pub caller: Caller,
}

/// How the token server behaves.
#[derive(Debug, Clone)]
pub struct TokenOptions {
    /// Loopback address it listens on.
    pub ip: String,
    /// Grant only the first scope of a request (as some token servers do).
    pub first_scope_only: bool,
    /// Wait this long before answering each request.
    pub latency: Duration,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            ip: "127.0.0.1".into(),
            first_scope_only: false,
            latency: Duration::ZERO,
        }
    }
}

pub struct TokenRegistry {
    child: Child,
    port: u16,
    token_server: String,
    _dir: tempfile::TempDir,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenRegistry {
    /// Serve `seeded`'s storage behind token auth, the token server on `127.0.0.1`.
    pub fn start(seeded: &TestRegistry) -> TokenRegistry {
        Self::start_with_realm(seeded, "127.0.0.1", |server| {
            format!("http://{server}/token")
        })
    }

    /// The same with the token server listening on `ip` (a loopback address) and the
    /// registry naming `realm(token server's ip:port)` as its token realm.
    pub fn start_with_realm(
        seeded: &TestRegistry,
        ip: &str,
        realm: impl FnOnce(&str) -> String,
    ) -> TokenRegistry {
        let options = TokenOptions {
            ip: ip.to_string(),
            ..TokenOptions::default()
        };
        Self::start_with(seeded, &options, realm)
    }

    /// Serve `seeded`'s storage behind a token server behaving as `options` say.
    pub fn start_with_options(seeded: &TestRegistry, options: &TokenOptions) -> TokenRegistry {
        Self::start_with(seeded, options, |server| format!("http://{server}/token"))
    }

    fn start_with(
        seeded: &TestRegistry,
        options: &TokenOptions,
        realm: impl FnOnce(&str) -> String,
    ) -> TokenRegistry {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(vec!["token-signer".to_string()]).expect("params");
        let cert = params.self_signed(&key).expect("cert");
        let cert_path = dir.path().join("token.pem");
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        let x5c = base64_encode(cert.der());
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &SystemRandom::new(),
        )
        .expect("signing key");

        let requests = Arc::new(Mutex::new(Vec::new()));
        let listener = TcpListener::bind((options.ip.as_str(), 0)).expect("bind token server");
        let token_server = listener.local_addr().expect("addr").to_string();
        let realm = realm(&token_server);
        let recorded = requests.clone();
        let signer = Arc::new(signer);
        let behaviour = options.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (signer, recorded, x5c) = (signer.clone(), recorded.clone(), x5c.clone());
                let behaviour = behaviour.clone();
                thread::spawn(move || answer(conn, &signer, &x5c, &recorded, &behaviour));
            }
        });

        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                seeded.data_dir().display(),
                cert_path.display()
            ),
        )
        .expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = TokenRegistry {
            child,
            port,
            token_server,
            _dir: dir,
            requests,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 401") {
                    return;
                }
            }
            // Poll the readiness condition again shortly; not a synchronisation sleep.
            thread::sleep(Duration::from_millis(20));
        }
        panic!("token-auth registry did not start");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the token server listens: `ip:port`.
    pub fn token_server(&self) -> &str {
        &self.token_server
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64_encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query_params(query, name).into_iter().next()
}

/// Every value of a parameter that may repeat.
fn query_params(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer(
    conn: std::net::TcpStream,
    signer: &EcdsaKeyPair,
    x5c: &str,
    recorded: &Mutex<Vec<TokenRequest>>,
    behaviour: &TokenOptions,
) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let params = if method == "POST" {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        target
            .split_once('?')
            .map(|(_, q)| q.to_string())
            .unwrap_or_default()
    };
    // GET repeats `scope`; OAuth2's POST separates scopes with spaces.
    let scopes: Vec<String> = query_params(&params, "scope")
        .iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let scope = scopes.join(" ");
    let expected_basic = format!(
        "Basic {}",
        base64_encode(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let caller = match (
        header("authorization"),
        query_param(&params, "refresh_token"),
    ) {
        (Some(a), _) if a == expected_basic => Some(Caller::Basic),
        (Some(_), _) => None,
        (None, Some(t)) if t == REFRESH_TOKEN && method == "POST" => Some(Caller::Refresh),
        (None, Some(_)) => None,
        (None, None) => Some(Caller::Anonymous),
    };
    recorded.lock().expect("recorded").push(TokenRequest {
        method,
        target,
        scope,
        scopes: scopes.clone(),
        caller: caller.clone().unwrap_or(Caller::Refused),
    });
    if !behaviour.latency.is_zero() {
        thread::sleep(behaviour.latency);
    }
    let Some(caller) = caller else {
        let _ = conn.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    // repository:NAME:pull → grant pull where allowed.
    let granted = if behaviour.first_scope_only {
        &scopes[..scopes.len().min(1)]
    } else {
        &scopes[..]
    };
    let access: Vec<serde_json::Value> = granted
        .iter()
        .map(|scope| scope.split(':').nth(1).unwrap_or("").to_string())
        .filter(|name| caller != Caller::Anonymous || name.starts_with("library/"))
        .map(|name| serde_json::json!({"type": "repository", "name": name, "actions": ["pull"]}))
        .collect();
    static ISSUED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let header_json = serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "test", "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{name}"),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header_json.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = signer
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("sign");
    let jwt = format!("{signing_input}.{}", b64url(sig.as_ref()));
    let body =
        serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 300}).to_string();
    let _ = conn.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}
