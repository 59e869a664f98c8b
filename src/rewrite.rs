//! Rewriting: splice replacement text into a file at exact byte spans, and put the
//! result on disk atomically. Every other byte of the file stays as it was, so
//! formatting, comments, quoting and line endings survive by construction.

use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::RwLock;

/// Held (shared) for the whole of every write, by each writing thread. An interrupt
/// (Ctrl-C) takes it exclusively before exiting, so it never lands between creating a
/// temporary file and renaming it: every file is either as it was or fully rewritten,
/// and no temporary file is left behind.
static WRITING: RwLock<()> = RwLock::new(());

/// Install the handler for SIGINT, SIGTERM and SIGHUP (the `ctrlc` crate's
/// `termination` feature): wait for a write in progress, then exit with 130.
pub fn exit_cleanly_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        let _held = WRITING.write().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            io::stderr(),
            "interrupted; every file is either unchanged or fully written"
        );
        std::process::exit(130);
    });
}

/// Replace the bytes at `span` with `replacement` (an empty span inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub replacement: String,
}

/// Why a set of edits could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("edits overlap at bytes {0}..{1}")]
    Overlap(usize, usize),
    #[error("edit at bytes {0}..{1} is outside the file or splits a character")]
    OutOfBounds(usize, usize),
}

/// Apply edits to `src`. Identical duplicate edits (one anchor used twice) collapse
/// into one; overlapping different edits are refused rather than guessed at.
pub fn apply(src: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    sorted.dedup();
    let mut out = String::with_capacity(src.len() + edits.len() * 80);
    let mut pos = 0;
    for e in sorted {
        let Range { start, end } = e.span;
        if start < pos {
            return Err(EditError::Overlap(start, end));
        }
        if end < start || !src.is_char_boundary(start) || !src.is_char_boundary(end) {
            return Err(EditError::OutOfBounds(start, end));
        }
        out.push_str(&src[pos..start]);
        out.push_str(&e.replacement);
        pos = end;
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

/// Why a file was not written. Each text completes "not written: …".
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("changed on disk since it was read (run again)")]
    Modified,
    #[error("is a symbolic link (pin the file it points to)")]
    Symlink,
    #[error("is read-only")]
    ReadOnly,
    #[error("its owner {uid}:{gid} cannot be kept on the replacement ({source})")]
    Owner {
        uid: u32,
        gid: u32,
        source: io::Error,
    },
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// How often a file replaced while imagepin waited for its lock is looked up again.
const LOCK_ATTEMPTS: usize = 8;

/// Open `path` and take an exclusive lock (`flock`) on it, making sure the lock is on
/// the file the path names now: another imagepin may have renamed a new file over it
/// while this one waited. Returns the locked file and its metadata.
fn lock_current(path: &Path) -> Result<(fs::File, fs::Metadata), WriteError> {
    for _ in 0..LOCK_ATTEMPTS {
        if fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(WriteError::Symlink);
        }
        let file = fs::File::open(path)?;
        file.lock()?;
        let held = file.metadata()?;
        let now = fs::symlink_metadata(path)?;
        if (now.dev(), now.ino()) == (held.dev(), held.ino()) {
            return Ok((file, held));
        }
    }
    Err(WriteError::Modified)
}

/// Replace `path` with `contents` via a temporary file in the same directory and a
/// rename, keeping the file's owner, group and permissions (a file whose owner cannot
/// be kept is not replaced). `original` is what the file held when it was read: if it
/// changed since, nothing is written. The comparison and the rename happen under an
/// exclusive lock on the file, which every imagepin writer takes, and the file is read
/// again after the temporary one is written, right before the rename: two runs at once
/// cannot both replace the same text.
pub fn write_atomic(path: &Path, original: &[u8], contents: &[u8]) -> Result<(), WriteError> {
    let _writing = WRITING.read().unwrap_or_else(|p| p.into_inner());
    let (mut locked, meta) = lock_current(path)?;
    if meta.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    // Not a symlink, so these are the file's own permissions.
    let permissions = meta.permissions();
    let dir = dir_of(path);
    // Created with the file's permissions (the umask may narrow them; then they are
    // set again): a chmod is a journaled metadata change, costly across many files.
    let mut tmp = tempfile::Builder::new()
        .prefix(".imagepin-")
        .suffix(".tmp")
        .permissions(permissions.clone())
        .tempfile_in(dir)?;
    let created = tmp.as_file().metadata()?;
    if (created.uid(), created.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).map_err(
            |source| WriteError::Owner {
                uid: meta.uid(),
                gid: meta.gid(),
                source,
            },
        )?;
    }
    // No fsync: the rename is atomic for every reader, and syncing each of thousands
    // of files costs more than the whole run (measured: 1,500 files, 1.4 s of 2 s).
    tmp.write_all(contents)?;
    // A chown clears set-id bits; the umask may have narrowed the mode.
    if tmp.as_file().metadata()?.permissions() != permissions {
        fs::set_permissions(tmp.path(), permissions)?;
    }
    // Right before the rename: the path must still name the locked file (imagepin
    // writers wait for the lock; another program might not), holding what was read.
    let mut current = Vec::with_capacity(original.len());
    io::Read::read_to_end(&mut locked, &mut current)?;
    let now = fs::symlink_metadata(path)?;
    if current != original || (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
        return Err(WriteError::Modified);
    }
    tmp.persist(path).map_err(|e| WriteError::Io(e.error))?;
    drop(locked);
    Ok(())
}

/// Create or replace a file imagepin makes itself (the lock) with `contents`, atomically
/// (a temporary file beside it, then a rename), readable as a new file would be (the
/// umask decides): no reader ever sees half of it.
pub fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let _writing = WRITING.read().unwrap_or_else(|p| p.into_inner());
    let mut tmp = tempfile::Builder::new()
        .prefix(".imagepin-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o666))
        .tempfile_in(dir_of(path))?;
    tmp.write_all(contents)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory a file is in (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(at: usize, s: &str) -> Edit {
        Edit {
            span: at..at,
            replacement: s.into(),
        }
    }

    #[test]
    fn inserts_and_replaces_in_order() {
        let src = "a: nginx\r\nb: redis:7 # c\r\n";
        let edits = [ins(20, "@d2"), ins(8, ":latest@d1")];
        assert_eq!(
            apply(src, &edits).unwrap(),
            "a: nginx:latest@d1\r\nb: redis:7@d2 # c\r\n"
        );
        let replace = Edit {
            span: 3..8,
            replacement: "x".into(),
        };
        assert_eq!(
            apply(src, &[replace]).unwrap(),
            "a: x\r\nb: redis:7 # c\r\n"
        );
    }

    #[test]
    fn duplicates_collapse_and_overlaps_refuse() {
        let src = "abcdef";
        assert_eq!(apply(src, &[ins(3, "X"), ins(3, "X")]).unwrap(), "abcXdef");
        let a = Edit {
            span: 1..4,
            replacement: "1".into(),
        };
        let b = Edit {
            span: 2..5,
            replacement: "2".into(),
        };
        assert_eq!(apply(src, &[a, b]), Err(EditError::Overlap(2, 5)));
        assert!(matches!(
            apply("é", &[ins(1, "x")]),
            Err(EditError::OutOfBounds(1, 1))
        ));
    }

    #[test]
    fn atomic_write_keeps_mode_and_refuses_changed_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"old", b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert!(matches!(
            write_atomic(&p, b"old", b"newer"),
            Err(WriteError::Modified)
        ));
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn new_files_are_created_or_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("imagepin.lock.json");
        write_new(&p, b"first").unwrap();
        write_new(&p, b"second").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "second");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file"
        );
        assert!(write_new(&dir.path().join("no/such/dir/x"), b"x").is_err());
    }

    #[test]
    fn symlinks_and_read_only_files_are_not_written() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.yaml");
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("l.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            write_atomic(&link, b"old", b"new"),
            Err(WriteError::Symlink)
        ));
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        fs::set_permissions(&target, fs::Permissions::from_mode(0o444)).unwrap();
        assert!(matches!(
            write_atomic(&target, b"old", b"new"),
            Err(WriteError::ReadOnly)
        ));
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
    }
}
