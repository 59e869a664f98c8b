//! Resolving many references at once: each unique (registry, repository, tag) is looked
//! up exactly once per run, concurrently up to a bound, and the answers are handed back
//! by key so every file that uses a reference gets the same digest.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::ManifestHead;
use super::{Client, Endpoint, RegistryError, Routing};

/// What to look up: a tag (or digest) in a repository of a registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub registry: String,
    pub repository: String,
    pub reference: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.reference.contains(':') {
            '@'
        } else {
            ':'
        };
        write!(
            f,
            "{}/{}{}{}",
            self.registry, self.repository, sep, self.reference
        )
    }
}

/// A resolved target.
pub type Resolved = ManifestHead;

/// Each unique target with what resolving it gave.
pub type Resolutions = HashMap<Target, Result<Resolved, RegistryError>>;

pub struct Resolver {
    client: Arc<Client>,
    routing: Routing,
    /// Lookups in flight at once, per host (however many names or mirrors reach it).
    concurrency: usize,
    limits: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Endpoint base → the host key its limit is counted under.
    hosts: std::sync::Mutex<HashMap<String, String>>,
    progress: Option<indicatif::ProgressBar>,
}

impl Resolver {
    pub fn new(client: Arc<Client>, routing: Routing, concurrency: usize) -> Resolver {
        Resolver {
            client,
            routing,
            concurrency: concurrency.max(1),
            limits: std::sync::Mutex::default(),
            hosts: std::sync::Mutex::default(),
            progress: None,
        }
    }

    /// Show progress on this bar (stderr, terminals only: the caller decides).
    pub fn with_progress(mut self, bar: indicatif::ProgressBar) -> Resolver {
        self.progress = Some(bar);
        self
    }

    /// Where a registry's requests go.
    pub fn endpoint(&self, registry: &str) -> Endpoint {
        Endpoint::for_registry(registry, &self.routing)
    }

    /// The concurrency limit of the host an endpoint reaches, shared by every lookup
    /// to that host under any name (`localhost:5000` and `127.0.0.1:5000`, or
    /// `host` and `host:443`).
    fn limit(&self, ep: &Endpoint) -> Arc<Semaphore> {
        let key = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(ep.base.clone())
                .or_insert_with(|| ep.host_key())
                .clone()
        };
        let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        limits
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.concurrency)))
            .clone()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Resolve every unique target; duplicates in `targets` cost nothing extra.
    pub async fn resolve_all(&self, targets: impl IntoIterator<Item = Target>) -> Resolutions {
        self.resolve_each(targets, &mut |_, _| {}).await
    }

    /// Like [`Resolver::resolve_all`], telling `answered` about each lookup as it ends.
    pub async fn resolve_each(
        &self,
        targets: impl IntoIterator<Item = Target>,
        answered: &mut dyn FnMut(&Target, &Result<Resolved, RegistryError>),
    ) -> Resolutions {
        // Each target once, in the order given: a caller that lists them file by file
        // gets whole files answered early (requests queue in this order).
        let mut seen = HashSet::new();
        let unique: Vec<Target> = targets
            .into_iter()
            .filter(|t| seen.insert(t.clone()))
            .collect();
        if let Some(bar) = &self.progress {
            // A bar is reused by a command's later rounds of lookups.
            bar.set_length(unique.len() as u64);
            bar.reset();
        }
        let mut tasks = JoinSet::new();
        for target in unique {
            let client = self.client.clone();
            let endpoint = Endpoint::for_registry(&target.registry, &self.routing);
            let permits = self.limit(&endpoint);
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = client
                    .head_manifest(&endpoint, &target.repository, &target.reference)
                    .await;
                (target, result)
            });
        }
        let mut out = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            // A task only ends early if it panicked, which is a bug worth surfacing.
            match joined {
                Ok((target, result)) => {
                    if let Some(bar) = &self.progress {
                        bar.set_message(target.registry.clone());
                        bar.inc(1);
                    }
                    answered(&target, &result);
                    out.insert(target, result);
                }
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        out
    }
}
