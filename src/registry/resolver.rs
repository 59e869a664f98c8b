//! Looking many things up at once: each unique key (a tag, a pin) is looked up exactly
//! once per run, concurrently up to a bound per registry, and the answers are handed
//! back by key so every file that uses a reference gets the same answer. A lookup may
//! take several requests (a platform pin's index, an image config); it runs on the same
//! path, and the client shares what several lookups ask for alike. The repositories a
//! run will need are announced first, so their bearer tokens come in a few batched
//! requests, asked for while the first lookups start.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
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

/// A lookup's key: which registry and repository it asks (for the concurrency bound
/// and the token batches).
pub trait Keyed: Clone + Eq + Hash + Send + Sync + 'static {
    fn registry(&self) -> &str;
    fn repository(&self) -> &str;
}

impl Keyed for Target {
    fn registry(&self) -> &str {
        &self.registry
    }
    fn repository(&self) -> &str {
        &self.repository
    }
}

/// What one lookup works with: the run's client and where its registry is reached.
#[derive(Clone)]
pub struct Lookup {
    pub client: Arc<Client>,
    pub endpoint: Endpoint,
}

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
        self.each(targets, head_of, answered).await
    }

    /// Run `lookup` once for each unique key, in the order given (a caller that lists
    /// them file by file gets whole files answered early: lookups queue in this order),
    /// at most `concurrency` at a time per registry, telling `answered` about each as it
    /// ends.
    pub async fn each<K, V, F, Fut>(
        &self,
        keys: impl IntoIterator<Item = K>,
        lookup: F,
        answered: &mut dyn FnMut(&K, &Result<V, RegistryError>),
    ) -> HashMap<K, Result<V, RegistryError>>
    where
        K: Keyed,
        V: Send + 'static,
        F: Fn(Lookup, K) -> Fut,
        Fut: Future<Output = Result<V, RegistryError>> + Send + 'static,
    {
        let mut seen = HashSet::new();
        let unique: Vec<K> = keys
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect();
        if let Some(bar) = &self.progress {
            // A bar is reused by a command's later rounds of lookups.
            bar.set_length(unique.len() as u64);
            bar.reset();
        }
        let warming = self.warm_tokens(&unique);
        let mut tasks = JoinSet::new();
        for key in unique {
            let cx = Lookup {
                client: self.client.clone(),
                endpoint: self.endpoint(key.registry()),
            };
            let permits = self.limit(&cx.endpoint);
            let work = lookup(cx, key.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (key, work.await)
            });
        }
        let mut out = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            // A task only ends early if it panicked, which is a bug worth surfacing.
            match joined {
                Ok((key, result)) => {
                    if let Some(bar) = &self.progress {
                        bar.set_message(key.registry().to_string());
                        bar.inc(1);
                    }
                    answered(&key, &result);
                    out.insert(key, result);
                }
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        // Token requests end before the lookups that wait on them.
        warming.join_all().await;
        out
    }

    /// Announce each registry's repositories, in lookup order, and ask for their
    /// batched tokens at once (a few per registry), beside the lookups: the first
    /// lookups wait for one token round trip, the later ones for none. Each of these
    /// counts against its host's limit like a lookup (it may ping the registry).
    fn warm_tokens<K: Keyed>(&self, keys: &[K]) -> JoinSet<()> {
        let mut by_endpoint: Vec<(Endpoint, Vec<String>)> = Vec::new();
        for key in keys {
            let ep = self.endpoint(key.registry());
            let repository = key.repository().to_string();
            match by_endpoint.iter_mut().find(|(e, _)| *e == ep) {
                Some((_, repos)) => repos.push(repository),
                None => by_endpoint.push((ep, vec![repository])),
            }
        }
        let mut warming = JoinSet::new();
        for (ep, repositories) in by_endpoint {
            let permits = self.limit(&ep);
            for repository in self.client.announce(&ep, &repositories) {
                let (client, ep, permits) = (self.client.clone(), ep.clone(), permits.clone());
                warming.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    client.warm(&ep, &repository).await;
                });
            }
        }
        warming
    }
}

/// The plain lookup: the digest a tag points to now (one `HEAD`).
async fn head_of(cx: Lookup, target: Target) -> Result<Resolved, RegistryError> {
    cx.client
        .head_manifest(&cx.endpoint, &target.repository, &target.reference)
        .await
}
