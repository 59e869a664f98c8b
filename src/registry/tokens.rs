//! Bearer tokens: which repositories one token request asks for, and how long a token
//! is used. The token protocol allows several `scope`s in one request, so repositories
//! announced before their lookups start are asked for in batches (at most
//! [`MAX_SCOPES`] scopes or [`MAX_QUERY_BYTES`] of query each), and a token serves
//! every repository it covers until it expires. A repository nobody announced gets a
//! token of its own. When a registry's token turns out not to cover a repository it was
//! asked for, that registry falls back to one token per repository for the rest of the
//! run. Every token sits in a single-flight cell: concurrent lookups share one request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::RegistryError;
use super::auth::pull_scope;

/// Most scopes asked for in one token request.
pub const MAX_SCOPES: usize = 50;
/// Longest query the scopes of one token request may make (URL limits of proxies and
/// servers start at 8 KB).
pub const MAX_QUERY_BYTES: usize = 6 * 1024;
/// A token is not used in its last seconds: a request may take that long to arrive.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);

/// A token as the realm gave it.
#[derive(Debug)]
pub struct Token {
    /// `Bearer …`; `None` when the realm answered without a token.
    pub header: Option<String>,
    /// When it stops being used.
    expires: Instant,
    /// How many repositories it was asked for.
    pub scopes: usize,
}

impl Token {
    pub fn new(token: Option<String>, lifetime_secs: u64, scopes: usize) -> Token {
        let lifetime = Duration::from_secs(lifetime_secs).saturating_sub(EXPIRY_MARGIN);
        Token {
            header: token.map(|t| format!("Bearer {t}")),
            expires: Instant::now() + lifetime,
            scopes,
        }
    }

    fn expired(&self) -> bool {
        Instant::now() >= self.expires
    }
}

pub type Cell = Arc<OnceCell<Result<Arc<Token>, RegistryError>>>;

/// Where a repository's token comes from: the cell to wait on, and the repositories
/// to ask for when the cell is still empty.
pub struct Source {
    pub cell: Cell,
    pub repositories: Arc<[String]>,
}

struct Batch {
    repositories: Arc<[String]>,
    cell: Cell,
}

/// One endpoint's tokens.
#[derive(Default)]
struct Endpoint {
    batch_of: HashMap<String, usize>,
    batches: Vec<Batch>,
    single: HashMap<String, Cell>,
    /// Batches proved not to work here: one token per repository from now on.
    per_repository: bool,
}

/// Every endpoint's tokens, keyed by the endpoint's base URL; repositories are named
/// as the endpoint knows them (mirror prefix included).
#[derive(Default)]
pub struct Tokens {
    endpoints: Mutex<HashMap<String, Endpoint>>,
}

/// A cell holding an expired token is replaced by an empty one (errors stay for the run).
fn fresh(cell: &mut Cell) -> Cell {
    if matches!(cell.get(), Some(Ok(token)) if token.expired()) {
        *cell = Cell::default();
    }
    cell.clone()
}

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Endpoint>> {
        self.endpoints.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Announce repositories an endpoint's lookups will need, in the order they will be
    /// asked; those not yet in a batch form new batches. Returns one repository of each
    /// new batch (asking for its token fetches the whole batch's).
    pub fn announce(
        &self,
        base: &str,
        repositories: impl IntoIterator<Item = String>,
    ) -> Vec<String> {
        let mut endpoints = self.lock();
        let ep = endpoints.entry(base.to_string()).or_default();
        if ep.per_repository {
            return Vec::new();
        }
        let mut new: Vec<Vec<String>> = Vec::new();
        let mut query = 0;
        for repository in repositories {
            if ep.batch_of.contains_key(&repository) || ep.single.contains_key(&repository) {
                continue;
            }
            // `&scope=` and the percent-encoded scope; `:` and `/` take three bytes.
            let scope = pull_scope(&repository);
            let cost = 7 + scope.len() + 2 * scope.matches([':', '/']).count();
            let full = new
                .last()
                .is_none_or(|b| b.len() >= MAX_SCOPES || query + cost > MAX_QUERY_BYTES);
            if full {
                new.push(Vec::new());
                query = 0;
            }
            query += cost;
            ep.batch_of
                .insert(repository.clone(), ep.batches.len() + new.len() - 1);
            if let Some(batch) = new.last_mut() {
                batch.push(repository);
            }
        }
        let firsts = new.iter().filter_map(|b| b.first().cloned()).collect();
        ep.batches.extend(new.into_iter().map(|repositories| Batch {
            repositories: repositories.into(),
            cell: Cell::default(),
        }));
        firsts
    }

    /// Where `repository`'s token comes from: its batch, or its own.
    pub fn source(&self, base: &str, repository: &str) -> Source {
        let mut endpoints = self.lock();
        let ep = endpoints.entry(base.to_string()).or_default();
        match ep.batch_of.get(repository) {
            Some(&i) if !ep.per_repository => {
                let batch = &mut ep.batches[i];
                Source {
                    cell: fresh(&mut batch.cell),
                    repositories: batch.repositories.clone(),
                }
            }
            _ => Self::single_in(ep, repository),
        }
    }

    /// A token for `repository` alone.
    pub fn single(&self, base: &str, repository: &str) -> Source {
        let mut endpoints = self.lock();
        Self::single_in(endpoints.entry(base.to_string()).or_default(), repository)
    }

    fn single_in(ep: &mut Endpoint, repository: &str) -> Source {
        let cell = ep.single.entry(repository.to_string()).or_default();
        Source {
            cell: fresh(cell),
            repositories: [repository.to_string()].into(),
        }
    }

    /// One token per repository for this endpoint from now on. True the first time.
    pub fn fall_back(&self, base: &str) -> bool {
        let mut endpoints = self.lock();
        let ep = endpoints.entry(base.to_string()).or_default();
        !std::mem::replace(&mut ep.per_repository, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize, len: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:0>len$}")).collect()
    }

    #[test]
    fn batches_hold_at_most_fifty_scopes() {
        let tokens = Tokens::default();
        let firsts = tokens.announce("b", names(120, 4));
        assert_eq!(firsts, ["0000", "0050", "0100"]);
        let a = tokens.source("b", "0003");
        let b = tokens.source("b", "0049");
        assert!(Arc::ptr_eq(&a.cell, &b.cell), "one request for the batch");
        assert_eq!(a.repositories.len(), 50);
        assert_eq!(tokens.source("b", "0119").repositories.len(), 20);
        // Announcing again adds nothing; an unannounced repository gets its own token.
        assert!(tokens.announce("b", names(120, 4)).is_empty());
        assert_eq!(&*tokens.source("b", "other").repositories, ["other"]);
    }

    #[test]
    fn batches_keep_the_query_short() {
        let tokens = Tokens::default();
        let long = names(40, 300);
        let firsts = tokens.announce("b", long.clone());
        assert!(firsts.len() > 1, "40 long names do not fit 6 KB");
        for first in &firsts {
            let batch = tokens.source("b", first).repositories;
            let query: usize = batch
                .iter()
                .map(|r| {
                    let scope = pull_scope(r);
                    7 + url::form_urlencoded::byte_serialize(scope.as_bytes())
                        .map(str::len)
                        .sum::<usize>()
                })
                .sum();
            assert!(query <= MAX_QUERY_BYTES, "{query}");
        }
    }

    #[test]
    fn fallback_gives_each_repository_its_own_token() {
        let tokens = Tokens::default();
        tokens.announce("b", names(3, 1));
        assert_eq!(tokens.source("b", "1").repositories.len(), 3);
        assert!(tokens.fall_back("b"));
        assert!(!tokens.fall_back("b"), "said once");
        assert_eq!(&*tokens.source("b", "1").repositories, ["1"]);
        assert!(tokens.announce("b", ["x".to_string()]).is_empty());
    }

    #[test]
    fn expired_tokens_are_asked_for_again() {
        let tokens = Tokens::default();
        let source = tokens.source("b", "r");
        let _ = source
            .cell
            .set(Ok(Arc::new(Token::new(Some("t".into()), 0, 1))));
        let again = tokens.source("b", "r");
        assert!(!Arc::ptr_eq(&source.cell, &again.cell));
        assert!(again.cell.get().is_none());
        let _ = again
            .cell
            .set(Ok(Arc::new(Token::new(Some("t".into()), 300, 1))));
        assert!(Arc::ptr_eq(&again.cell, &tokens.source("b", "r").cell));
    }
}
