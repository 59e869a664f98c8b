//! Podman Quadlet units (`*.container`, `*.image`, `*.volume`, `*.build`, `*.pod`, and
//! drop-ins `NAME.container.d/*.conf`): systemd unit files that Quadlet turns into
//! services. Images are named by:
//!
//! - `[Container] Image=` (the image the container runs) and `[Container] Mount=` with
//!   `type=image,source=IMAGE`;
//! - `[Image] Image=` (the image an `.image` unit pulls);
//! - `[Volume] Image=` (the image an image-driver volume is made from).
//!
//! `[Build]` has no base-image key (the base is in the Containerfile it builds, which is
//! scanned as a Dockerfile), and its `ImageTag=` names what it builds: never a finding.
//! `[Pod]` has no image key. Like Quadlet, the last `Image=` of a section wins, so only
//! that one is reported.
//!
//! Values: `docker://REF` is pinned after the scheme; `containers-storage:`,
//! `docker-daemon:`, `oci-archive:`, `oci:`, `docker-archive:` and `dir:` are local
//! stores (`local`, never looked up); `NAME.image` and `NAME.build` name other units
//! (`local`: the `.image` unit is pinned in its own file); a systemd specifier (`%i`)
//! is `templated`.
//!
//! The unit syntax is read as Quadlet's own parser reads it: lines trimmed, `#` and `;`
//! comment lines (also inside continuations), `[Section]` headers, `Key=Value` with
//! case-sensitive keys, a trailing `\` continuing the line, surrounding double quotes
//! removed from a value. A line that is none of these makes Quadlet refuse the file,
//! and so the file is skipped with its line.

use std::ops::Range;

use super::Candidate;
use crate::finding::{DigestField, Format, PinSite, Status};

/// One `Key=Value` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub section: &'a str,
    pub key: &'a str,
    /// The value's span (quotes removed, trailing spaces trimmed) when it is written
    /// on one line.
    pub span: Option<Range<usize>>,
    /// Where the value starts.
    pub start: usize,
    /// The value, with continuation lines joined and quotes removed.
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// The sections Quadlet reads images from; a file with none of them is not a unit
/// imagepin has anything to say about (`meson.build`, a Perl `.pod`).
const UNIT_SECTIONS: [&str; 5] = ["Container", "Image", "Volume", "Build", "Pod"];

/// Read a unit file into its entries, collecting the span of every comment line (`#`
/// or `;` first on a line; systemd has no comment after a value: a `#` there is part
/// of it). `Err((line, message))` for a line Quadlet refuses, in a file that has a
/// Quadlet section.
pub fn entries<'a>(
    src: &'a str,
    comments: &mut Vec<Range<usize>>,
) -> Result<Vec<Entry<'a>>, (usize, String)> {
    let mut out = Vec::new();
    let mut section: Option<&str> = None;
    let mut has_unit_section = false;
    let mut refused: Option<usize> = None;
    // A logical line being continued: (key line, key, value pieces as spans).
    let mut pending: Option<(usize, usize, Vec<Range<usize>>)> = None;
    let mut offset = 0;
    for (n, raw) in src.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let (s, e) = trim(src, start, start + raw.len());
        let line = &src[s..e];
        if line.starts_with('#') || line.starts_with(';') {
            comments.push(s..e);
            continue; // also inside a continuation, as Quadlet does
        }
        if line.is_empty() {
            continue;
        }
        let continued = line.ends_with('\\') && offset < src.len();
        let piece_end = if line.ends_with('\\') { e - 1 } else { e };
        if let Some((_, _, pieces)) = &mut pending {
            pieces.push(s..piece_end);
            if !continued {
                let (key_line, key_start, pieces) = pending.take().unwrap_or_default();
                entry(src, section, key_line, key_start, &pieces, &mut out);
            }
            continue;
        }
        if line.starts_with('[') {
            let close = line.find(']').unwrap_or(0);
            if close > 1 && line[close + 1..].trim_matches([' ', '\t']).is_empty() {
                let name = &line[1..close];
                has_unit_section |= UNIT_SECTIONS.contains(&name);
                section = Some(name);
                continue;
            }
        }
        let Some(eq) = line.find('=').filter(|&eq| eq > 0 && section.is_some()) else {
            refused.get_or_insert(n + 1);
            continue;
        };
        let value_start = s + eq + 1;
        if continued {
            pending = Some((n + 1, s, std::iter::once(value_start..piece_end).collect()));
        } else {
            let pieces: Vec<Range<usize>> = std::iter::once(value_start..e).collect();
            entry(src, section, n + 1, s, &pieces, &mut out);
        }
    }
    if let Some((key_line, key_start, pieces)) = pending {
        entry(src, section, key_line, key_start, &pieces, &mut out);
    }
    match refused {
        Some(line) if has_unit_section => Err((
            line,
            "not a `Key=Value` line, a [Section] or a comment, so Quadlet refuses this unit; skipped"
                .into(),
        )),
        Some(_) => Ok(Vec::new()),
        None if has_unit_section => Ok(out),
        None => Ok(Vec::new()),
    }
}

/// Trim spaces (and a line break) at both ends of `start..end`.
fn trim(src: &str, start: usize, end: usize) -> (usize, usize) {
    let t = &src[start..end];
    let lead = t.len() - t.trim_start().len();
    let trail = t.len() - t.trim_end().len();
    (start + lead, (end - trail).max(start + lead))
}

fn entry<'a>(
    src: &'a str,
    section: Option<&'a str>,
    line: usize,
    key_start: usize,
    pieces: &[Range<usize>],
    out: &mut Vec<Entry<'a>>,
) {
    let Some(section) = section else { return };
    let Some(first) = pieces.first() else { return };
    let key = src[key_start..first.start - 1].trim_end();
    let mut value: String = pieces.iter().map(|p| &src[p.clone()]).collect();
    // The value starts after spaces; trailing ones are not part of it either.
    let lead = value.len() - value.trim_start().len();
    value.drain(..lead);
    value.truncate(value.trim_end().len());
    let mut span = (pieces.len() == 1).then(|| {
        let (s, e) = trim(src, first.start, first.end);
        s..e
    });
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        value = value[1..value.len() - 1].to_string();
        span = span.map(|r| r.start + 1..r.end - 1);
    }
    out.push(Entry {
        section,
        key,
        span,
        // Where the value starts in the text (`lead` counts in the joined value, which
        // may run past the first piece).
        start: trim(src, first.start, first.end).0,
        value,
        line,
    });
}

/// Transports whose images are in a local store or file, never in a registry.
pub(super) const LOCAL_TRANSPORTS: [&str; 6] = [
    "containers-storage:",
    "docker-daemon:",
    "oci-archive:",
    "oci:",
    "docker-archive:",
    "dir:",
];

pub(super) const DOCKER_SCHEME: &str = "docker://";

/// The images of a Quadlet unit, and the span of every comment line.
pub fn scan(
    src: &str,
    comments: &mut Vec<Range<usize>>,
) -> Result<Vec<Candidate>, (usize, String)> {
    let entries = entries(src, comments)?;
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let image_key = e.key == "Image" && matches!(e.section, "Container" | "Image" | "Volume");
        if image_key {
            let overridden = entries[i + 1..]
                .iter()
                .any(|later| later.section == e.section && later.key == e.key);
            if !overridden {
                out.push(image(e.span.clone(), e.start, &e.value));
            }
        } else if e.key == "Mount" && e.section == "Container" {
            out.extend(mount_image(e));
        }
    }
    Ok(out)
}

/// A candidate for an image value written at `span` (when on one line).
fn image(span: Option<Range<usize>>, start: usize, value: &str) -> Candidate {
    let Some(mut span) = span else {
        return Candidate {
            span: start..start,
            format: Format::Quadlet,
            text: Some(value.to_string()),
            pin: PinSite::Field(DigestField::Missing(
                "written across continuation lines: cannot be pinned in place".into(),
            )),
            status: None,
        };
    };
    let mut c = Candidate::inline(span.clone(), Format::Quadlet);
    // An untagged name that is a transport's (`Image=docker-daemon`) would read as that
    // transport once a tag is written after it (`docker-daemon:latest@…`).
    if LOCAL_TRANSPORTS
        .iter()
        .chain([&DOCKER_SCHEME])
        .any(|t| t.trim_end_matches(['/', ':']) == value)
    {
        c.pin = PinSite::Field(DigestField::Missing(format!(
            "`{value}:…` would name a transport, not this image: write it with its registry (`docker.io/library/{value}`) to pin it"
        )));
        return c;
    }
    if let Some(rest) = value.strip_prefix(DOCKER_SCHEME) {
        span.start += DOCKER_SCHEME.len();
        c.span = span;
        c.status = rest.contains('%').then(specifier);
    } else if let Some(t) = LOCAL_TRANSPORTS.iter().find(|t| value.starts_with(*t)) {
        c.status = Some((
            Status::Local,
            format!("`{t}` is a local image store, not a registry"),
        ));
    } else if value.ends_with(".image") || value.ends_with(".build") {
        c.status = Some((
            Status::Local,
            format!(
                "the image of the Quadlet unit `{value}` (a `.image` unit is pinned in its own file)"
            ),
        ));
    } else if value.contains('%') {
        c.status = Some(specifier());
    }
    c
}

fn specifier() -> (Status, String) {
    (
        Status::Templated,
        "holds a systemd specifier (`%…`), expanded when the unit starts".into(),
    )
}

/// `Mount=type=image,source=IMAGE,destination=…`: the image (`source` or `src`).
fn mount_image(e: &Entry<'_>) -> Option<Candidate> {
    let span = e.span.clone();
    let mut is_image = false;
    let mut source: Option<(usize, &str)> = None;
    let mut at = 0;
    for field in e.value.split(',') {
        if let Some((k, v)) = field.split_once('=') {
            match k.trim() {
                "type" => is_image = v.trim() == "image",
                "source" | "src" => source = Some((at + k.len() + 1, v)),
                _ => {}
            }
        }
        at += field.len() + 1;
    }
    let (offset, value) = source.filter(|_| is_image)?;
    if value.is_empty() || value.contains('"') {
        return None;
    }
    let span = span.map(|s| s.start + offset..s.start + offset + value.len());
    // Across continuation lines an offset in the joined value is no place in the text:
    // the finding stands where the value starts.
    Some(image(span, e.start, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<(String, Option<Status>)> {
        scan(src, &mut Vec::new())
            .expect("reads")
            .into_iter()
            .map(|c| {
                let text = c.text.unwrap_or_else(|| src[c.span].to_string());
                (text, c.status.map(|s| s.0))
            })
            .collect()
    }

    #[test]
    fn lexer_sections_comments_continuations_quotes() {
        let src = "# top\r\n[Unit]\r\nDescription=x \\\r\n  # inside\r\n  ; also\r\n  y\r\n\r\n[Container]\r\n  Image = \"nginx:1.25\"  \r\nExec=/bin/sh -c \\\r\n  'true'\r\n";
        let mut comments = Vec::new();
        let e = entries(src, &mut comments).expect("reads");
        let comments: Vec<_> = comments.into_iter().map(|c| &src[c]).collect();
        assert_eq!(comments, ["# top", "# inside", "; also"]);
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].section, e[0].key, e[0].value.as_str()),
            ("Unit", "Description", "x y")
        );
        assert_eq!(e[0].span, None);
        assert_eq!(
            (e[1].section, e[1].key, e[1].line),
            ("Container", "Image", 9)
        );
        assert_eq!(e[1].span.clone().map(|r| &src[r]), Some("nginx:1.25"));
        assert_eq!(e[2].value, "/bin/sh -c 'true'");
    }

    /// Found by fuzzing: `Image=docker-daemon` is an untagged image, but pinned as
    /// `docker-daemon:latest@…` it would read as the `docker-daemon:` transport.
    #[test]
    fn an_untagged_name_spelt_like_a_transport_is_not_pinned() {
        let c = scan("[Container]\nImage=docker-daemon\n", &mut Vec::new()).expect("reads");
        assert!(
            matches!(&c[0].pin, PinSite::Field(DigestField::Missing(why)) if why.contains("transport")),
            "{:?}",
            c[0].pin
        );
        let c = scan("[Container]\nImage=docker-daemonx\n", &mut Vec::new()).expect("reads");
        assert!(matches!(c[0].pin, PinSite::Inline), "{:?}", c[0].pin);
    }

    /// Found by fuzzing: a value across continuation lines placed its finding at an
    /// offset of the joined value, inside a character of the text (a panic).
    #[test]
    fn a_value_across_lines_stands_where_it_starts() {
        let src = "[Container]\nMount=type=image,source=busybox:1 \\\n  \u{feff}\u{e9}x,source=nginx:1.25\nImage=  \\\n  redis:7\n";
        let c = scan(src, &mut Vec::new()).expect("reads");
        assert_eq!(c.len(), 2);
        let mount = src.find("type=").unwrap();
        assert_eq!(c[0].span, mount..mount);
        assert_eq!(c[0].text.as_deref(), Some("nginx:1.25"));
        let image = src.find("Image=").unwrap() + "Image=".len();
        // The first piece holds only spaces: the value starts on the next line.
        assert!(c[1].span.start >= image && src.is_char_boundary(c[1].span.start));
        assert_eq!(c[1].text.as_deref(), Some("redis:7"));
    }

    #[test]
    fn lexer_refuses_what_quadlet_refuses_only_in_units() {
        assert_eq!(
            entries("[Container]\nImage=a\nnot a pair\n", &mut Vec::new()).map(|_| ()),
            Err((
                3,
                entries("[Container]\nx\n", &mut Vec::new()).unwrap_err().1
            ))
        );
        assert_eq!(
            entries("Image=a\n[Container]\n", &mut Vec::new())
                .map(|_| ())
                .unwrap_err()
                .0,
            1
        );
        // Not a Quadlet unit at all (meson.build, Perl POD): nothing, no complaint.
        assert_eq!(
            entries("project('x', 'c')\nexecutable('a')\n", &mut Vec::new()),
            Ok(vec![])
        );
        assert_eq!(entries("=head1 NAME\n\nfoo\n", &mut Vec::new()), Ok(vec![]));
        // Keys are case-sensitive; sections too.
        assert!(found("[Container]\nimage=nginx:1\n[container]\nImage=redis\n").is_empty());
    }

    #[test]
    fn images_and_transports() {
        let src = "[Container]\nImage=docker.io/library/nginx:1.20\nImage=docker://nginx:1.25\n\
                   Mount=type=image,source=busybox:1.36,destination=/bb\nMount=type=bind,source=/a,destination=/b\n\
                   [Volume]\nDriver=image\nImage=containers-storage:localhost/data:1\n\
                   [Image]\nImage=oci-archive:/srv/app.tar\nImageTag=localhost/app:1\n\
                   [Build]\nImageTag=localhost/built:1\nFile=Containerfile\n";
        assert_eq!(
            found(src),
            [
                ("nginx:1.25".into(), None),
                ("busybox:1.36".into(), None),
                (
                    "containers-storage:localhost/data:1".into(),
                    Some(Status::Local)
                ),
                ("oci-archive:/srv/app.tar".into(), Some(Status::Local)),
            ]
        );
        let src = "[Container]\nImage=app.build\n[Volume]\nImage=data.image\n";
        assert_eq!(
            found(src),
            [
                ("app.build".into(), Some(Status::Local)),
                ("data.image".into(), Some(Status::Local))
            ]
        );
        let src = "[Container]\nImage=registry.example/%i:latest\n";
        assert_eq!(found(src)[0].1, Some(Status::Templated));
        let src = "[Container]\nImage=ghcr.io/acme/\\\n  api:v2\n";
        let c = scan(src, &mut Vec::new()).expect("reads");
        assert_eq!(c[0].text.as_deref(), Some("ghcr.io/acme/api:v2"));
        assert!(matches!(c[0].pin, PinSite::Field(DigestField::Missing(_))));
    }
}
