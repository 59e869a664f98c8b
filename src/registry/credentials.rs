//! Credentials the way docker and podman users already have them: docker's
//! `config.json` (`$DOCKER_CONFIG`, else `~/.docker`) with `auths` entries, `credHelpers`
//! and `credsStore` (which run `docker-credential-NAME get`), then podman's auth file
//! (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else
//! `~/.config/containers/auth.json`). Looked up once per registry host per run.
//!
//! Read here rather than through the `docker_credential` crate, which runs helpers
//! with no time limit (a helper that hangs hung imagepin) and folds every failure into
//! one of a few variants without the file or helper it concerns: a helper runs under
//! the request timeout and is killed on expiry, and a helper that fails, a config
//! that is not JSON and an `auth` that is not base64 each say so, naming the helper or
//! the file. A credential never reaches output: its `Debug` is redacted, and a failing
//! helper's output is never shown (only the last line of its stderr).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;

/// A secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token realm.
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credential {
    /// `Basic …` header value, for username/password credentials.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            // `encode_credentials` returns the whole header value, `Basic …`.
            Credential::Basic { username, password } => {
                Some(http_auth::basic::encode_credentials(username, password))
            }
            Credential::IdentityToken(_) => None,
        }
    }
}

/// Why the credentials for a host could not be had. Each names the helper or file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "credential helper docker-credential-{helper} did not answer in {secs} s (it was stopped)"
    )]
    HelperTimeout { helper: String, secs: u64 },
    #[error("credential helper docker-credential-{helper} failed ({status}){detail}")]
    HelperFailed {
        helper: String,
        status: String,
        /// `: ` and the last line of its stderr, if any.
        detail: String,
    },
    #[error("credential helper docker-credential-{helper} could not be run: {problem}")]
    HelperNotRun { helper: String, problem: String },
    #[error(
        "credential helper docker-credential-{helper} answered with something that is not a credential ({problem})"
    )]
    HelperAnswer { helper: String, problem: String },
    #[error("{path}: cannot read: {problem}")]
    Unreadable { path: PathBuf, problem: String },
    #[error("{path} is not valid JSON ({problem})")]
    NotJson { path: PathBuf, problem: String },
    #[error("{path}: the `auth` for {key} is not base64 of username:password ({problem})")]
    BadAuth {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

/// Where credentials were looked for, for error messages.
pub const SOURCES: &str = "docker config.json ($DOCKER_CONFIG or ~/.docker: auths, credHelpers, credsStore) and the podman auth file ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or ~/.config/containers/auth.json)";

type Lookup = Result<Option<Credential>, CredentialError>;

/// Per-run cache of credential lookups, keyed by registry host.
pub struct Credentials {
    cells: Mutex<HashMap<String, Arc<OnceCell<Lookup>>>>,
    /// How long a credential helper may take.
    helper_timeout: Duration,
}

impl Credentials {
    pub fn new(helper_timeout: Duration) -> Credentials {
        Credentials {
            cells: Mutex::default(),
            helper_timeout,
        }
    }

    /// The credential for `host` (`docker.io`, `ghcr.io`, `127.0.0.1:5000`), if any.
    pub async fn for_host(&self, host: &str) -> Lookup {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            cells.entry(host.to_string()).or_default().clone()
        };
        cell.get_or_init(|| lookup(host, self.helper_timeout))
            .await
            .clone()
    }
}

/// An auth file: docker's `config.json` and podman's `auth.json` share the format.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// What a `docker-credential-NAME get` prints.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// A host as auth files key it: the host of a URL key, Docker Hub's names as one. A
/// key without a scheme loses a trailing `/` and an API path (`host/`, `host/v2/`), as
/// docker reads it; any other path (podman's `host/namespace`) is kept.
fn normalise_key(key: &str) -> String {
    let bare = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .unwrap_or_else(|| {
            let key = key.trim_end_matches('/');
            ["/v1", "/v2"]
                .iter()
                .find_map(|api| key.strip_suffix(api))
                .unwrap_or(key)
        });
    match bare {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        other => other.to_ascii_lowercase(),
    }
}

/// Docker keys Docker Hub under its legacy index URL; helpers are asked for that.
fn server_url(host: &str) -> &str {
    match host {
        "docker.io" => "https://index.docker.io/v1/",
        other => other,
    }
}

/// The home directory as Docker and Podman find it: `$HOME`, on Windows `%USERPROFILE%`.
fn home() -> Option<std::ffi::OsString> {
    std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" })
}

fn docker_config_path() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| Path::new(&h).join(".docker")))?;
    Some(dir.join("config.json"))
}

fn podman_auth_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        return Some(PathBuf::from(p));
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| Path::new(&d).join("containers/auth.json"))
        .filter(|p| p.is_file());
    runtime.or_else(|| {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| Path::new(&h).join(".config")))?;
        Some(config.join("containers/auth.json"))
    })
}

/// Read an auth file; a file that does not exist is none.
fn read_auth_file(path: &Path) -> Result<Option<AuthFile>, CredentialError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialError::Unreadable {
                path: path.to_path_buf(),
                problem: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CredentialError::NotJson {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })
}

async fn lookup(host: &str, timeout: Duration) -> Lookup {
    let host = normalise_key(host);
    for path in [docker_config_path(), podman_auth_path()]
        .into_iter()
        .flatten()
    {
        let Some(file) = read_auth_file(&path)? else {
            continue;
        };
        if let Some(found) = from_file(&file, &path, &host, timeout).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The credential one auth file holds for `host`: its credential helper, else its
/// `auths` entry, else its credential store.
async fn from_file(file: &AuthFile, path: &Path, host: &str, timeout: Duration) -> Lookup {
    let helper = file
        .cred_helpers
        .iter()
        .find(|(k, v)| normalise_key(k) == host && !v.is_empty())
        .map(|(_, v)| v);
    if let Some(helper) = helper {
        return run_helper(helper, server_url(host), timeout).await;
    }
    // An exact key first, then any key naming the same host.
    let entry = file
        .auths
        .get(server_url(host))
        .map(|e| (server_url(host), e))
        .or_else(|| {
            file.auths
                .iter()
                .find(|(k, _)| normalise_key(k) == host)
                .map(|(k, e)| (k.as_str(), e))
        });
    if let Some((key, entry)) = entry {
        if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken(token.clone())));
        }
        if let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) {
            return decode_auth(auth)
                .map(Some)
                .map_err(|problem| CredentialError::BadAuth {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                    problem,
                });
        }
        if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
            return Ok(Some(Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            }));
        }
    }
    match file.creds_store.as_ref().filter(|s| !s.is_empty()) {
        Some(store) => run_helper(store, server_url(host), timeout).await,
        None => Ok(None),
    }
}

/// `auth`: base64 (padded or not) of `username:password`.
fn decode_auth(auth: &str) -> Result<Credential, String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(auth.trim()).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 once decoded".to_string())?;
    let (username, password) = text
        .split_once(':')
        .ok_or_else(|| "no `:` between username and password".to_string())?;
    Ok(Credential::Basic {
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// Run `docker-credential-NAME get` with the server URL on stdin, for at most
/// `timeout`; on expiry the helper is killed. A helper that has nothing for this
/// server ("credentials not found", as docker's helpers say) means no credential.
async fn run_helper(name: &str, server: &str, timeout: Duration) -> Lookup {
    let program = format!("docker-credential-{name}");
    let not_run = |problem: String| CredentialError::HelperNotRun {
        helper: name.to_string(),
        problem,
    };
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so that on expiry whatever it started goes with it.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(|e| not_run(e.to_string()))?;
    #[cfg(unix)]
    let pid = child.id();
    let answer = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading is judged by its exit status.
            let _ = stdin.write_all(server.as_bytes()).await;
        }
        child.wait_with_output().await
    };
    let output = match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(not_run(e.to_string())),
        // Dropping the wait drops the child, which kills it (`kill_on_drop`); the
        // processes it started are killed with its group.
        Err(_) => {
            #[cfg(unix)]
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                use nix::sys::signal::{Signal, killpg};
                // The group is the helper's own (`process_group(0)` above).
                let _ = killpg(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
            }
            return Err(CredentialError::HelperTimeout {
                helper: name.to_string(),
                secs: timeout.as_secs(),
            });
        }
    };
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(200).collect::<String>());
        return Err(CredentialError::HelperFailed {
            helper: name.to_string(),
            status: match output.status.code() {
                Some(code) => format!("exit status {code}"),
                None => output.status.to_string(),
            },
            detail: last.map(|l| format!(": {l}")).unwrap_or_default(),
        });
    }
    let parsed: HelperAnswer =
        serde_json::from_slice(&output.stdout).map_err(|e| CredentialError::HelperAnswer {
            helper: name.to_string(),
            problem: e.to_string(),
        })?;
    Ok(Some(if parsed.username == "<token>" {
        Credential::IdentityToken(parsed.secret)
    } else {
        Credential::Basic {
            username: parsed.username,
            password: parsed.secret,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("tok".into())).contains("tok"));
        assert_eq!(c.basic_header().as_deref(), Some("Basic dTpodW50ZXIy"));
        assert_eq!(server_url("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_url("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn keys_name_hosts() {
        assert_eq!(normalise_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalise_key("registry-1.docker.io"), "docker.io");
        assert_eq!(normalise_key("https://ghcr.io"), "ghcr.io");
        assert_eq!(normalise_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalise_key("127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(normalise_key("registry.example/v2/"), "registry.example");
        assert_eq!(normalise_key("quay.io/org"), "quay.io/org");
    }

    #[test]
    fn auth_is_base64_of_user_colon_password() {
        let basic = |u: &str, p: &str| Credential::Basic {
            username: u.into(),
            password: p.into(),
        };
        assert_eq!(decode_auth("dTpwOnE="), Ok(basic("u", "p:q")));
        assert_eq!(decode_auth("dTpwOnE"), Ok(basic("u", "p:q")), "unpadded");
        assert!(decode_auth("%%%").is_err());
        assert!(decode_auth("dXNlcg==").unwrap_err().contains("no `:`"));
    }
}
