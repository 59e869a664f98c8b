//! Credentials the way docker and podman users already have them: docker's
//! `config.json` (`$DOCKER_CONFIG`, else `~/.docker`) with `auths` entries, `credHelpers`
//! and `credsStore` (which run `docker-credential-NAME get`), then podman's auth file
//! (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`). Looked up once per
//! registry host per run, off the async threads (helpers are processes). A credential
//! never reaches output: its `Debug` is redacted and errors only say where imagepin
//! looked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use docker_credential::DockerCredential;
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

/// Where credentials were looked for, for error messages.
pub const SOURCES: &str = "docker config.json ($DOCKER_CONFIG or ~/.docker: auths, credHelpers, credsStore) and the podman auth file ($REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json)";

/// Per-run cache of credential lookups, keyed by registry host.
#[derive(Default)]
pub struct Credentials {
    cells: Mutex<HashMap<String, Arc<OnceCell<Option<Credential>>>>>,
}

impl Credentials {
    /// The credential for `host` (`docker.io`, `ghcr.io`, `127.0.0.1:5000`), if any.
    pub async fn for_host(&self, host: &str) -> Option<Credential> {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            cells.entry(host.to_string()).or_default().clone()
        };
        cell.get_or_init(|| {
            let host = host.to_string();
            async move {
                tokio::task::spawn_blocking(move || lookup(&host))
                    .await
                    .ok()
                    .flatten()
            }
        })
        .await
        .clone()
    }
}

/// Docker keys Docker Hub under its legacy index URL.
fn server_key(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    }
}

fn lookup(host: &str) -> Option<Credential> {
    let server = server_key(host);
    let found = docker_credential::get_credential(server)
        .or_else(|_| docker_credential::get_podman_credential(server))
        .ok()?;
    Some(match found {
        DockerCredential::UsernamePassword(username, password) => {
            Credential::Basic { username, password }
        }
        DockerCredential::IdentityToken(token) => Credential::IdentityToken(token),
    })
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
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_key("ghcr.io"), "ghcr.io");
    }
}
