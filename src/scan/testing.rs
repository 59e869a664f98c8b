//! Test helpers for the YAML rules: what a text yields when read as a file of a given
//! name, in text order and one candidate per span, as [`super::scan_source`] keeps them.

use std::path::Path;

use super::Candidate;
use crate::finding::{Format, Status};

/// The candidates of `src` read as the file `path`.
pub fn candidates(src: &str, path: &str) -> Vec<Candidate> {
    let mut c = super::yaml::scan(src, Path::new(path)).expect("parses");
    c.sort_by_key(|c| (c.span.start, c.span.end));
    c.dedup_by(|a, b| a.span == b.span);
    c
}

/// Each candidate's reference: the one its fields make, or the text at its span.
pub fn texts<'s>(src: &'s str, c: &'s [Candidate]) -> Vec<&'s str> {
    c.iter()
        .map(|c| c.text.as_deref().unwrap_or(&src[c.span.clone()]))
        .collect()
}

/// The references found in `src` read as `path`, all of `format`.
pub fn found<'s>(src: &'s str, path: &str, format: Format) -> Vec<&'s str> {
    let c = candidates(src, path);
    assert!(
        c.iter().all(|c| c.format == format),
        "{:?}",
        c.iter().map(|c| c.format).collect::<Vec<_>>()
    );
    c.iter().map(|c| &src[c.span.clone()]).collect()
}

/// The status a rule decided for each candidate (`None`: classified from its text).
pub fn statuses(c: &[Candidate]) -> Vec<Option<Status>> {
    c.iter().map(|c| c.status.as_ref().map(|s| s.0)).collect()
}
