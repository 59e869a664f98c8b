//! Resolving many references at once: each unique (registry, repository, tag) is looked
//! up exactly once per run, concurrently up to a bound, and the answers are handed back
//! by key so every file that uses a reference gets the same digest.

use std::collections::{BTreeSet, HashMap};
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
    concurrency: usize,
}

impl Resolver {
    pub fn new(client: Arc<Client>, routing: Routing, concurrency: usize) -> Resolver {
        Resolver {
            client,
            routing,
            concurrency: concurrency.max(1),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Resolve every unique target; duplicates in `targets` cost nothing extra.
    pub async fn resolve_all(&self, targets: impl IntoIterator<Item = Target>) -> Resolutions {
        let unique: BTreeSet<Target> = targets.into_iter().collect();
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        for target in unique {
            let client = self.client.clone();
            let endpoint = Endpoint::for_registry(&target.registry, &self.routing);
            let permits = permits.clone();
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
                    out.insert(target, result);
                }
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        out
    }
}
