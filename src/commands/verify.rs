//! `imagepin verify`: every pinned digest must still exist in its registry (a manifest
//! `HEAD` by digest, through mirrors and credentials like every lookup). A pin whose tag
//! now points elsewhere has drifted: reported as information, or as an error with
//! `--strict`. A platform pin has drifted only when it is no longer in its tag's index.

use std::collections::{BTreeSet, HashMap};

use super::{Input, Outcome, Session};
use crate::config::{RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::finding::Finding;
use crate::registry::platform;
use crate::registry::{RegistryError, Target};
use crate::report::{self, Action, Command, OutputFormat, Row, short_digest};

/// The digest lookup of a pin, and its tag lookup when it has a tag.
fn lookups(f: &Finding) -> Option<(Target, Option<Target>)> {
    let r = f.reference.as_ref()?;
    let digest = r.digest.clone()?;
    let at = |reference: String| Target {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        reference,
    };
    Some((at(digest), r.tag.clone().map(at)))
}

/// What verifying a tag found: its digest now, and the entries of its index.
struct TagNow {
    digest: String,
    entries: BTreeSet<String>,
}

pub fn run(
    input: &Input,
    scan_settings: &ScanSettings,
    strict: bool,
    format: OutputFormat,
    settings: &RegistrySettings,
) -> Result<Outcome, RunError> {
    let scan = input.scan(scan_settings, &|_| false);
    let unread = input.report_skipped(&scan.skipped);
    let findings: Vec<&Finding> = scan.files.iter().flat_map(|f| f.findings.iter()).collect();
    let pins: Vec<(&Finding, Target, Option<Target>)> = findings
        .iter()
        .filter_map(|f| lookups(f).map(|(d, t)| (*f, d, t)))
        .collect();

    let session = (!pins.is_empty())
        .then(|| Session::new(settings))
        .transpose()?;
    let (digests, tags) = match &session {
        None => (HashMap::new(), HashMap::new()),
        Some(s) => s.block_on(async {
            let digests = s
                .resolver
                .resolve_all(pins.iter().map(|p| p.1.clone()))
                .await;
            let tag_targets: Vec<Target> = pins.iter().filter_map(|p| p.2.clone()).collect();
            let heads = s.resolver.resolve_all(tag_targets).await;
            let mut tags: HashMap<Target, Result<TagNow, RegistryError>> = HashMap::new();
            for (target, head) in heads {
                let now = match head {
                    Ok(h) if platform::is_index(h.media_type.as_deref()) => {
                        let ep = s.resolver.endpoint(&target.registry);
                        match s.client.manifest(&ep, &target.repository, &h.digest).await {
                            Ok((body, _)) => Ok(TagNow {
                                entries: platform::index_entries(&body)
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|(d, _)| d)
                                    .collect(),
                                digest: h.digest,
                            }),
                            Err(e) => Err(e),
                        }
                    }
                    Ok(h) => Ok(TagNow {
                        digest: h.digest,
                        entries: BTreeSet::new(),
                    }),
                    Err(e) => Err(e),
                };
                tags.insert(target, now);
            }
            (digests, tags)
        }),
    };

    let mut rows = Vec::new();
    for (f, digest_target, tag_target) in &pins {
        let pinned = &digest_target.reference;
        let row = match digests.get(digest_target) {
            Some(Err(RegistryError::NotFound { .. })) => Row::new(f, Action::Dangling).with_message(format!(
                "{} does not exist in {}: garbage-collected or deleted upstream, or the digest was edited by hand",
                short_digest(pinned),
                session.as_ref().map_or_else(
                    || digest_target.registry.clone(),
                    |s| s.resolver.endpoint(&digest_target.registry).asked()
                )
            )),
            Some(Err(e)) => Row::new(f, Action::Failed).with_message(e.to_string()),
            None => Row::new(f, Action::Failed).with_message("not looked up"),
            Some(Ok(_)) => match tag_target.as_ref().and_then(|t| tags.get(t)) {
                Some(Ok(now)) if now.digest == *pinned || now.entries.contains(pinned) => {
                    Row::new(f, Action::Verified)
                }
                Some(Ok(now)) => {
                    let mut row = Row::new(f, Action::Drifted).with_message(format!(
                        "the tag now points to {}; the pinned {} still exists, so the tag moved since pinning (or the digest was edited by hand)",
                        short_digest(&now.digest),
                        short_digest(pinned)
                    ));
                    row.old_digest = Some(pinned.clone());
                    row.new_digest = Some(now.digest.clone());
                    row
                }
                Some(Err(e)) if strict => Row::new(f, Action::Failed).with_message(format!("tag lookup: {e}")),
                // Without --strict, a tag that cannot be looked up is only information.
                Some(Err(_)) | None => Row::new(f, Action::Verified),
            },
        };
        rows.push(row);
    }
    super::print(Command::Verify, &rows, format, strict, false)?;

    let count = |a: Action| rows.iter().filter(|r| r.action == a).count();
    let (dangling, drifted, failed) = (
        count(Action::Dangling),
        count(Action::Drifted),
        count(Action::Failed),
    );
    let requests = session.as_ref().map(Session::requests).unwrap_or_default();
    report::summary(&format!(
        "verified {}: {} resolve, {dangling} dangling, {drifted} drifted{}, {failed} failed{requests}",
        report::plural(rows.len(), "pin"),
        count(Action::Verified) + drifted,
        if strict {
            ""
        } else {
            " (information only without --strict)"
        },
    ));
    let bad = dangling + failed + if strict { drifted } else { 0 };
    Ok(if bad > 0 || unread {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
