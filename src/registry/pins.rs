//! What `verify`, `update` and `fix --platform` ask a registry about one reference,
//! each as one lookup on the resolver's path, with the fewest requests the answer
//! needs; the client keeps every answer for the run, so lookups of the same repository
//! share what they have in common (a tag's `HEAD`, an index, an image config).
//!
//! - `verify`: one `HEAD` of the tag answers both questions when the tag still points
//!   at the pin. Otherwise a `HEAD` of the pin says whether it exists and what it is;
//!   only for a platform pin is the tag's index fetched, to see whether it still lists
//!   the pin.
//! - `update`: the tag's `HEAD`; where it moved, a `HEAD` of the old pin tells an index
//!   pin (which follows the tag: no `GET`, which Docker Hub counts as a pull) from a
//!   platform pin, which stays while the tag's new index lists it; otherwise its
//!   platform comes from its image config and is looked for in the tag's new answer.
//! - With `--platform` (`verify`, `update`), the pins are taken to be platform pins:
//!   the tag's manifest is fetched at once, and one `GET` answers for a pin its index
//!   lists. Without it, a registry's lookups are asked the same way once most of its
//!   pins looked up so far in the run have been platform pins ([`Seen`]): only the
//!   order of the requests follows what was seen, never an answer.
//! - `fix --platform`: one `GET` of the tag; an index names the platform's manifest,
//!   a single manifest's image config must be of that platform.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::platform::{self, Platform};
use super::resolver::{Keyed, Lookup, Resolved, Target};
use super::{Manifest, RegistryError};
use crate::report::short_digest;

/// A pinned reference: its digest and, unless it is digest-only, its tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
}

impl Keyed for Pin {
    fn registry(&self) -> &str {
        &self.registry
    }
    fn repository(&self) -> &str {
        &self.repository
    }
}

impl Pin {
    /// The pin's tag as a lookup target.
    fn tag_target(&self) -> Option<Target> {
        Some(Target {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            reference: self.tag.clone()?,
        })
    }
}

/// What `verify` found about a pin.
#[derive(Debug, Clone)]
pub enum PinState {
    /// The tag still points to the pin, or, for a platform pin, to an index listing it.
    Current,
    /// The pinned digest exists (a digest-only pin: nothing more to ask).
    Exists,
    /// The pinned digest exists, but the tag now points to `now`.
    Drifted { now: String },
    /// The pinned digest exists; whether its tag still points to it is unknown.
    TagUnknown(RegistryError),
    /// The pinned digest does not exist.
    Dangling,
    /// Neither the pinned digest nor its tag exists: the tag went with the digest, or
    /// the repository is not there (a wrong name, a mirror's path that holds nothing).
    /// No tag to follow, so `update` cannot repair it.
    TagGone,
}

/// Where `update` moves a pin, and what the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub digest: String,
    pub warning: Option<String>,
}

/// What the pins looked up so far on each registry turned out to be, so that the
/// lookups still to start there ask in the order that costs least for their kind: the
/// tag's `HEAD` first (index pins, single-platform images: it alone answers), or the
/// tag's manifest first (platform pins: their tag's index must be read anyway). Shared
/// by one command's lookups; it changes which requests are made, never an answer.
#[derive(Debug, Clone, Default)]
pub struct Seen(Arc<Mutex<HashMap<String, Tally>>>);

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Pins the tag's `HEAD` answered (with, when it moved, a `HEAD` of the pin).
    by_head: usize,
    /// Platform pins: they needed their tag's index.
    by_index: usize,
}

/// Platform pins a registry's lookups must have met, and outnumber the others, before
/// the ones still to start there fetch the tag's manifest at once: one or two platform
/// pins among index pins change nothing.
const PLATFORM_PINS_TO_SWITCH: usize = 4;

impl Seen {
    fn record(&self, registry: &str, platform_pin: bool) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let tally = seen.entry(registry.to_string()).or_default();
        if platform_pin {
            tally.by_index += 1;
        } else {
            tally.by_head += 1;
        }
    }

    /// Whether platform pins are, so far, what this registry's pins are.
    fn platform_pins_lead(&self, registry: &str) -> bool {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(registry)
            .is_some_and(|t| t.by_index >= PLATFORM_PINS_TO_SWITCH && t.by_index > t.by_head)
    }
}

fn platform_error(cx: &Lookup, message: String) -> RegistryError {
    RegistryError::Platform {
        registry: cx.endpoint.label(),
        message,
    }
}

fn protocol(cx: &Lookup, message: String) -> RegistryError {
    RegistryError::Protocol {
        registry: cx.endpoint.label(),
        message,
    }
}

/// Whether `digest` exists in the pin's repository (a `HEAD`).
async fn exists(cx: &Lookup, repository: &str, digest: &str) -> Result<bool, RegistryError> {
    match cx
        .client
        .head_manifest(&cx.endpoint, repository, digest)
        .await
    {
        Ok(_) => Ok(true),
        Err(RegistryError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `manifest` is an index that lists `digest`.
fn lists(cx: &Lookup, manifest: &Manifest, digest: &str) -> Result<bool, RegistryError> {
    if !platform::is_index(manifest.head.media_type.as_deref()) {
        return Ok(false);
    }
    let entries = platform::index_entries(&manifest.body).map_err(|m| protocol(cx, m))?;
    Ok(entries.iter().any(|e| e.digest == digest))
}

/// `verify`: does the pinned digest exist, and does its tag still point to it? One
/// `HEAD` of the tag answers while it points at the pin; otherwise a `HEAD` of the pin
/// says what it is (a drifted index pin costs no `GET`), and only a platform pin has
/// its tag's index fetched. `platform`: the pins are that platform's (`verify
/// --platform`), so each tag's manifest is fetched at once — one `GET` answers for a
/// pin its index lists; so too once `seen` says platform pins lead on the registry.
pub async fn verify(
    cx: Lookup,
    pin: Pin,
    platform: Option<Platform>,
    seen: Seen,
) -> Result<PinState, RegistryError> {
    let repository = &pin.repository;
    let Some(tag) = pin.tag_target() else {
        return Ok(match exists(&cx, repository, &pin.digest).await? {
            true => PinState::Exists,
            false => PinState::Dangling,
        });
    };
    let ep = &cx.endpoint;
    let record = |platform_pin| seen.record(&pin.registry, platform_pin);
    if platform.is_some() || seen.platform_pins_lead(&pin.registry) {
        let tag_error = match cx.client.manifest(ep, repository, &tag.reference).await {
            Ok(m) if m.head.digest == pin.digest => {
                record(false);
                return Ok(PinState::Current);
            }
            Ok(m) => match lists(&cx, &m, &pin.digest) {
                Ok(true) => {
                    record(true);
                    return Ok(PinState::Current);
                }
                Ok(false) => Ok(m.head.clone()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        return settle(&cx, &pin, tag_error).await;
    }
    let tag_error = match cx
        .client
        .head_manifest(ep, repository, &tag.reference)
        .await
    {
        Ok(now) if now.digest == pin.digest => {
            record(false);
            return Ok(PinState::Current);
        }
        Ok(now) if platform::is_index(now.media_type.as_deref()) => {
            // What the pin is decides, asked with a HEAD (never a GET, which Docker Hub
            // counts as a pull): an index pin has drifted; a platform pin is current
            // while its tag's index lists it.
            match cx.client.head_manifest(ep, repository, &pin.digest).await {
                Ok(old) if !platform::is_index(old.media_type.as_deref()) => {
                    record(true);
                    let index = cx.client.manifest(ep, repository, &now.digest).await;
                    match index.and_then(|index| lists(&cx, &index, &pin.digest)) {
                        Ok(true) => return Ok(PinState::Current),
                        Ok(false) => Ok(now),
                        Err(e) => Err(e),
                    }
                }
                // An index pin, or a pin that is gone (settled below).
                Ok(_) => {
                    record(false);
                    Ok(now)
                }
                Err(RegistryError::NotFound { .. }) => Ok(now),
                Err(e) => return Err(e),
            }
        }
        Ok(now) => Ok(now),
        Err(e) => Err(e),
    };
    settle(&cx, &pin, tag_error).await
}

/// A pin its tag does not point to (or whose tag could not be asked): drifted,
/// dangling, or of unknown drift, as the pinned digest exists or not.
async fn settle(
    cx: &Lookup,
    pin: &Pin,
    tag: Result<Resolved, RegistryError>,
) -> Result<PinState, RegistryError> {
    if !exists(cx, &pin.repository, &pin.digest).await? {
        return Ok(match tag {
            Err(RegistryError::NotFound { .. }) => PinState::TagGone,
            _ => PinState::Dangling,
        });
    }
    Ok(match tag {
        Ok(now) => PinState::Drifted { now: now.digest },
        Err(e) => PinState::TagUnknown(e),
    })
}

/// `update`: the digest a `name:tag@digest` pin should have now. An index pin follows
/// its tag; a platform pin stays on its platform (an error when the tag has no image
/// for it any more). A pin whose digest is gone is re-pinned to what the tag points to
/// now, or to `platform`'s manifest of it when given, with a warning: which platform
/// a gone digest pinned cannot be learned. The tag's manifest is fetched at once with
/// `platform`, or once `seen` says platform pins lead on the registry.
pub async fn follow(
    cx: Lookup,
    pin: Pin,
    platform: Option<Platform>,
    seen: Seen,
) -> Result<Move, RegistryError> {
    let Some(tag) = pin.tag_target() else {
        return Err(protocol(
            &cx,
            format!("{} has no tag to follow", pin.digest),
        ));
    };
    let ep = &cx.endpoint;
    let moved = |digest: String| Move {
        digest,
        warning: None,
    };
    // With --platform the pins are taken to be that platform's, and without it once most
    // of the registry's pins have been: the tag's manifest is fetched at once (one GET
    // answers for a pin its index still lists), and a moved pin's own manifest too.
    // Otherwise a HEAD first answers for index pins.
    let fetch_first = platform.is_some() || seen.platform_pins_lead(&pin.registry);
    let (new, tagged) = if fetch_first {
        let tagged = cx
            .client
            .manifest(ep, &tag.repository, &tag.reference)
            .await?;
        (tagged.head.clone(), Some(tagged))
    } else {
        let new = cx
            .client
            .head_manifest(ep, &tag.repository, &tag.reference)
            .await?;
        (new, None)
    };
    if new.digest == pin.digest {
        seen.record(&pin.registry, false);
        return Ok(moved(new.digest));
    }
    let pinned = match &tagged {
        Some(tagged) => what_was_pinned_in(&cx, &pin, tagged).await,
        None => what_was_pinned(&cx, &pin, &new).await,
    };
    // `wanted`'s manifest in what the tag points to now (fetched once).
    let pick = async |wanted: &Platform, following: bool| match &tagged {
        Some(m) => choose(&cx, &tag, m, wanted, following).await,
        None => platform_of(&cx, &tag, &new.digest, wanted, following).await,
    };
    if let Ok(pinned) = &pinned {
        seen.record(&pin.registry, !matches!(pinned, Pinned::Index));
    }
    let wanted = match pinned {
        Ok(Pinned::Index) => return Ok(moved(new.digest)),
        Ok(Pinned::StillListed) => return Ok(moved(pin.digest)),
        Ok(Pinned::Platform(wanted)) => wanted,
        Err(RegistryError::NotFound { .. }) => {
            let gone = format!(
                "the pinned {} no longer exists, so the platform it pinned (if it pinned one) cannot be learned",
                short_digest(&pin.digest)
            );
            return Ok(match platform {
                Some(p) => Move {
                    digest: pick(&p, false).await?.digest,
                    warning: Some(format!(
                        "{gone}; re-pinned to the tag's {p} image (--platform)"
                    )),
                },
                None if platform::is_index(new.media_type.as_deref()) => Move {
                    digest: new.digest,
                    warning: Some(format!(
                        "{gone}; re-pinned to the tag's multi-arch index (pass --platform OS/ARCH to pin one platform)"
                    )),
                },
                None => Move {
                    digest: new.digest,
                    warning: Some(format!(
                        "{gone}; re-pinned to the tag's single-platform image"
                    )),
                },
            });
        }
        Err(e) => return Err(e),
    };
    Ok(moved(pick(&wanted, true).await?.digest))
}

/// What an old pin is, when the tag's manifest `tagged` is at hand (`update
/// --platform`): still listed in its index, or, from the pin's own manifest, an index
/// or one platform's image.
async fn what_was_pinned_in(
    cx: &Lookup,
    pin: &Pin,
    tagged: &Manifest,
) -> Result<Pinned, RegistryError> {
    if lists(cx, tagged, &pin.digest)? {
        return Ok(Pinned::StillListed);
    }
    pinned_by_manifest(cx, pin).await
}

/// What an old pin whose tag now points elsewhere is.
enum Pinned {
    /// An index: it follows its tag.
    Index,
    /// One platform's manifest that the tag's new index still lists: it stays.
    StillListed,
    /// One platform's manifest, for this platform.
    Platform(Platform),
}

/// What an old pin is, asked in the order that costs least for the usual kinds. When
/// the tag's new answer is an index, a `HEAD` of the pin tells an index pin (the usual
/// kind: nothing more to ask, and no `GET`, which Docker Hub counts as a pull) from a
/// platform pin, which stays where it is while the new index lists it. Otherwise the
/// pin's manifest is fetched at once: its image config says its platform.
async fn what_was_pinned(cx: &Lookup, pin: &Pin, new: &Resolved) -> Result<Pinned, RegistryError> {
    let ep = &cx.endpoint;
    if platform::is_index(new.media_type.as_deref()) {
        let old = cx
            .client
            .head_manifest(ep, &pin.repository, &pin.digest)
            .await?;
        if platform::is_index(old.media_type.as_deref()) {
            return Ok(Pinned::Index);
        }
        let index = cx.client.manifest(ep, &pin.repository, &new.digest).await?;
        if lists(cx, &index, &pin.digest)? {
            return Ok(Pinned::StillListed);
        }
    }
    pinned_by_manifest(cx, pin).await
}

/// What an old pin is by its own manifest (a `GET`): an index, or one platform's
/// image, whose image config says which.
async fn pinned_by_manifest(cx: &Lookup, pin: &Pin) -> Result<Pinned, RegistryError> {
    let old = cx
        .client
        .manifest(&cx.endpoint, &pin.repository, &pin.digest)
        .await?;
    if platform::is_index(old.head.media_type.as_deref()) {
        return Ok(Pinned::Index);
    }
    manifest_platform(cx, &pin.repository, &old)
        .await
        .map(Pinned::Platform)
}

/// The platform a single-platform manifest is for, from its image config.
async fn manifest_platform(
    cx: &Lookup,
    repository: &str,
    manifest: &Manifest,
) -> Result<Platform, RegistryError> {
    let config = platform::config_digest(&manifest.body).map_err(|m| protocol(cx, m))?;
    let blob = cx.client.blob(&cx.endpoint, repository, &config).await?;
    platform::config_platform(&blob).map_err(|m| protocol(cx, m))
}

/// `fix --platform`: the manifest of `wanted` that `target` points to (one `GET`; for
/// a single-platform image, its config too).
pub async fn for_platform(
    cx: Lookup,
    target: Target,
    wanted: Platform,
) -> Result<Resolved, RegistryError> {
    platform_of(&cx, &target, &target.reference, &wanted, false).await
}

/// The manifest of `wanted` in what `tag` points to (`reference`: the tag, or the
/// digest its `HEAD` gave).
async fn platform_of(
    cx: &Lookup,
    tag: &Target,
    reference: &str,
    wanted: &Platform,
    following: bool,
) -> Result<Resolved, RegistryError> {
    let manifest = cx
        .client
        .manifest(&cx.endpoint, &tag.repository, reference)
        .await?;
    choose(cx, tag, &manifest, wanted, following).await
}

/// `wanted`'s entry of an index, or a single manifest if it is of `wanted`; otherwise
/// an error saying which platforms there are (`following`: a pin's platform, which
/// the tag no longer has, rather than one asked for).
async fn choose(
    cx: &Lookup,
    tag: &Target,
    manifest: &Manifest,
    wanted: &Platform,
    following: bool,
) -> Result<Resolved, RegistryError> {
    let missing = if following {
        format!("{tag} no longer has a {wanted} image")
    } else {
        format!("{tag} has no {wanted} image")
    };
    if platform::is_index(manifest.head.media_type.as_deref()) {
        let entries = platform::index_entries(&manifest.body).map_err(|m| protocol(cx, m))?;
        if let Some(entry) = entries.iter().find(|e| wanted.matches(&e.platform)) {
            return Ok(Resolved {
                digest: entry.digest.clone(),
                media_type: entry.media_type.clone(),
            });
        }
        let has: Vec<String> = entries.iter().map(|e| e.platform.to_string()).collect();
        let has = if has.is_empty() {
            "its index lists no platforms".to_string()
        } else {
            format!("its index has {}", has.join(", "))
        };
        return Err(platform_error(cx, format!("{missing}; {has}")));
    }
    let actual = manifest_platform(cx, &tag.repository, manifest).await?;
    if wanted.matches(&actual) {
        return Ok(manifest.head.clone());
    }
    let is = if following { "is now" } else { "is" };
    Err(platform_error(
        cx,
        format!("{missing}: it {is} a single-platform image for {actual}"),
    ))
}
