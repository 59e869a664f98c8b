//! `imagepin verify`: every pinned digest must still exist in its registry, asked
//! through mirrors and credentials like every lookup, concurrently, each unique pin
//! once. A pin whose tag now points elsewhere has drifted: reported as information, or
//! as an error with `--strict`, which also fails the run when anything could not be
//! read. A platform pin has drifted only when it is no longer in its tag's index. One
//! `HEAD` of the tag answers both questions while the tag still points at the pin
//! ([`crate::registry::pins::verify`]).

use std::collections::HashMap;

use super::{Input, Outcome, Session};
use crate::config::{RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::finding::Finding;
use crate::registry::pins::{self, Pin, PinState};
use crate::registry::platform::Platform;
use crate::report::{self, Action, Command, OutputFormat, Row, short_digest};

/// The pin a finding holds, if it holds one.
fn pin(f: &Finding) -> Option<Pin> {
    let r = f.reference.as_ref()?;
    Some(Pin {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        tag: r.tag.clone(),
        digest: r.digest.clone()?,
    })
}

/// `platform`: the pins are that platform's (`--platform`): each tag's index is fetched
/// at once instead of a `HEAD` first.
pub fn run(
    input: &Input,
    scan_settings: &ScanSettings,
    strict: bool,
    format: OutputFormat,
    settings: &RegistrySettings,
    platform: Option<&Platform>,
) -> Result<Outcome, RunError> {
    let scan = input.scan(scan_settings, &|_| false);
    let unread = input.report_skipped(&scan, strict);
    super::warn_unused_routing(settings, &scan);
    let pinned: Vec<(&Finding, Pin)> = scan
        .files
        .iter()
        .flat_map(|f| f.findings.iter())
        .filter_map(|f| pin(f).map(|p| (f, p)))
        .collect();

    let session = (!pinned.is_empty())
        .then(|| Session::new(settings))
        .transpose()?;
    let states = match &session {
        None => HashMap::new(),
        Some(s) => {
            let seen = pins::Seen::default();
            s.block_on(s.resolver.each(
                pinned.iter().map(|(_, p)| p.clone()),
                |cx, pin| pins::verify(cx, pin, platform.cloned(), seen.clone()),
                &mut |_, _| {},
            ))
        }
    };

    // Where a pin was asked about: its registry, or the mirror standing in for it.
    let asked = |pin: &Pin| {
        session.as_ref().map_or_else(
            || pin.registry.clone(),
            |s| s.resolver.endpoint(&pin.registry).asked(),
        )
    };
    let mut rows = Vec::new();
    for (f, pin) in &pinned {
        let row = match states.get(pin) {
            Some(Ok(PinState::Dangling)) => Row::new(f, Action::Dangling).with_message(format!(
                "{} does not exist in {}: garbage-collected or deleted upstream, or the digest was edited by hand",
                short_digest(&pin.digest),
                asked(pin)
            )),
            Some(Ok(PinState::TagGone)) => {
                let mut row = Row::new(f, Action::Dangling).with_message(format!(
                    "neither {} nor its tag {} exists in {}: the tag was deleted too, or the repository name (or the mirror's path) is wrong; there is no tag for `imagepin update` to follow",
                    short_digest(&pin.digest),
                    pin.tag.as_deref().unwrap_or(""),
                    asked(pin)
                ));
                row.advice = Some(
                    "Check the repository name (and the mirror's path); if the image was deleted, pin a tag that exists: `imagepin update` and `fix` cannot, with neither digest nor tag there.",
                );
                row
            }
            Some(Err(e)) => super::lookup_failed(f, e),
            None => Row::new(f, Action::Failed).with_message("not looked up"),
            Some(Ok(PinState::Current | PinState::Exists)) => Row::new(f, Action::Verified),
            Some(Ok(PinState::Drifted { now })) => {
                let mut row = Row::new(f, Action::Drifted).with_message(format!(
                    "the tag now points to {}; the pinned {} still exists, so the tag moved since pinning (or the digest was edited by hand)",
                    short_digest(now),
                    short_digest(&pin.digest)
                ));
                row.old_digest = Some(pin.digest.clone());
                row.new_digest = Some(now.clone());
                row
            }
            Some(Ok(PinState::TagUnknown(e))) if strict => {
                Row::new(f, Action::Failed).with_message(format!("tag lookup: {e}"))
            }
            // Without --strict, a tag that cannot be looked up is a warning: the digest
            // resolves, whether it drifted is unknown.
            Some(Ok(PinState::TagUnknown(e))) => {
                Row::new(f, Action::Verified).with_message(format!(
                    "the pinned digest exists, but whether its tag still points to it is unknown (tag lookup: {e}); --strict fails the run for this"
                ))
            }
        };
        rows.push(row);
    }
    super::print(Command::Verify, &rows, &scan.skipped, format, strict, false)?;

    let count = |a: Action| rows.iter().filter(|r| r.action == a).count();
    let (dangling, drifted, failed) = (
        count(Action::Dangling),
        count(Action::Drifted),
        count(Action::Failed),
    );
    let unknown = rows
        .iter()
        .filter(|r| r.action == Action::Verified && r.message.is_some())
        .count();
    let requests = session.as_ref().map(Session::requests).unwrap_or_default();
    report::summary(&format!(
        "verified {}: {} resolve ({unknown} with drift unknown), {dangling} dangling, {drifted} drifted{}, {failed} failed{requests}",
        report::plural(rows.len(), "pin"),
        count(Action::Verified) + drifted,
        if strict {
            ""
        } else {
            " (information only without --strict)"
        },
    ));
    // What to do next: pins with a tag can be moved (drifted) or re-pinned (dangling)
    // — not when the tag is gone too.
    let followable = pinned
        .iter()
        .filter(|(_, pin)| pin.tag.is_some())
        .filter(|(_, pin)| {
            matches!(
                states.get(pin),
                Some(Ok(PinState::Dangling | PinState::Drifted { .. }))
            )
        })
        .count();
    if followable > 0 {
        report::summary(
            "next: `imagepin update` moves dangling and drifted pins to what their tag points to now (a pin of one platform to that platform's image, if the tag still has one)",
        );
    }
    let bad = dangling + failed + if strict { drifted } else { 0 };
    Ok(if bad > 0 || unread {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
