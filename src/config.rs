//! Settings that reach the registry layer, gathered from the command line.
//! Validated once here; the rest of the program never sees raw flags.

use std::time::Duration;

use crate::registry::Mirrors;

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    pub mirrors: Mirrors,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl RegistrySettings {
    /// Build from `--mirror` specs and limits; the error is a usage error.
    pub fn new(
        mirror_specs: &[String],
        concurrency: usize,
        timeout_secs: u64,
    ) -> Result<Self, String> {
        let mut mirrors = Mirrors::default();
        for spec in mirror_specs {
            mirrors.add_spec(spec)?;
        }
        if concurrency == 0 {
            return Err("--concurrency must be at least 1".into());
        }
        if timeout_secs == 0 {
            return Err("--timeout must be at least 1 second".into());
        }
        Ok(RegistrySettings {
            mirrors,
            concurrency,
            timeout: Duration::from_secs(timeout_secs),
        })
    }
}
