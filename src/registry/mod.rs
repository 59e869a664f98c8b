//! Talking to registries: where a registry's API lives (`endpoint`), how to get past
//! its auth challenge (`auth`, `tokens`), the HTTP calls with retries (`client`),
//! looking many references up at once, each unique one exactly once (`resolver`), and
//! what `verify`, `update` and `--platform` ask about a pin (`pins`, `platform`).

pub mod auth;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod pins;
pub mod platform;
pub mod resolver;
mod tokens;
mod wire;

pub use client::{Client, Manifest, RequestStats};
pub use endpoint::{Endpoint, HostSettings, Routing};
pub use resolver::{Keyed, Lookup, Resolutions, Resolved, Resolver, Target};

/// The four manifest media types a resolver must accept. With fewer, a registry may
/// silently answer with one platform's manifest instead of the multi-arch index.
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Why one reference could not be resolved. Each variant says what to do next.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error("{registry}: {what} not found (does the tag or repository exist?)")]
    NotFound { registry: String, what: String },
    #[error("{registry}: access denied to {repository} (HTTP {status}); {credentials}")]
    Denied {
        registry: String,
        repository: String,
        status: u16,
        /// Which credentials were sent, or where imagepin looked for them.
        credentials: String,
    },
    #[error(
        "{registry}: rate limited (HTTP 429) and still limited after {attempts} attempts; try again later"
    )]
    RateLimited { registry: String, attempts: u32 },
    #[error(
        "{registry}: HTTP {status} for {url}, still failing after {attempts} attempts; try again later"
    )]
    ServerError {
        registry: String,
        status: u16,
        url: String,
        attempts: u32,
    },
    #[error("{registry}: HTTP {status} for {url}")]
    Status {
        registry: String,
        status: u16,
        url: String,
    },
    #[error("{registry}: {message}")]
    Network { registry: String, message: String },
    #[error("{registry}: {message}")]
    Protocol { registry: String, message: String },
    /// The credentials for the registry could not be had (a helper failed or hung, an
    /// auth file is broken): the message names the helper or the file.
    #[error("{registry}: {message}")]
    Credentials { registry: String, message: String },
    /// The image has no manifest for the platform asked for (or followed).
    #[error("{registry}: {message}")]
    Platform { registry: String, message: String },
}
