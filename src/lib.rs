//! imagepin: find container image references in a repository, resolve mutable tags to
//! the digests they point to now, and pin them in place without touching another byte.
//!
//! The pipeline, one module per stage: [`walk`] files → [`scan`] each into
//! [`finding::Finding`]s → [`commands`] plan what to do → [`registry`] resolves unique
//! references concurrently → [`rewrite`] splices edits and writes atomically →
//! [`report`] prints. [`cli`] turns arguments into settings; [`config`] holds them.

pub mod apply;
pub mod changed;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod finding;
pub mod lock;
pub mod reference;
pub mod registry;
pub mod report;
pub mod rewrite;
pub mod scan;
pub mod stdin;
pub mod walk;
pub mod yaml;
