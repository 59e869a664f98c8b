//! Rewriting: splice replacement text into a file at exact byte spans, and put the
//! result on disk atomically. Every other byte of the file stays as it was, so
//! formatting, comments, quoting and line endings survive by construction.

use std::fs;
use std::io::{self, Write};
use std::ops::Range;
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
    #[cfg(unix)]
    #[error("its owner {uid}:{gid} cannot be kept on the replacement ({source})")]
    Owner {
        uid: u32,
        gid: u32,
        source: io::Error,
    },
    /// Windows only: the rename was refused. On NTFS std's rename replaces a file that
    /// is open (imagepin's own lock is a handle on it) unless another program opened it
    /// without sharing deletion; FAT, exFAT and some network shares replace no open file.
    #[cfg(windows)]
    #[error(
        "Windows refused to replace it ({0}): another program may hold it open, or its \
         file system (FAT, exFAT, some network shares) cannot replace an open file"
    )]
    Replace(io::Error),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// How often a file replaced while imagepin waited for its lock is looked up again.
const LOCK_ATTEMPTS: usize = 8;

/// Which file a path names: compared with the locked file's to make sure the lock is on
/// the file the path names now. Unix: device and inode; Windows: volume serial number and
/// file index (std has no stable way to read these on Windows, so `winapi-util`, which
/// the walker already builds there, reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

/// The identity of what `path` names itself, a symbolic link not followed.
#[cfg(unix)]
fn path_id(path: &Path) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(path)?;
    Ok(FileId(m.dev(), m.ino()))
}

/// The identity of what `path` names itself, a symbolic link not followed: opened for no
/// access at all (only its attributes are read, so no sharing mode or lock is in the way)
/// and without following a reparse point, as std's `symlink_metadata` does.
#[cfg(windows)]
fn path_id(path: &Path) -> io::Result<FileId> {
    use std::os::windows::fs::OpenOptionsExt;
    // Win32 constants (winbase.h): open the link itself; allow opening a directory.
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
    let file = fs::OpenOptions::new()
        .access_mode(0)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)?;
    handle_id(&file)
}

/// The identity of an open file (`meta` is its metadata, which carries it on Unix).
#[cfg(unix)]
fn locked_id(_file: &fs::File, meta: &fs::Metadata) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    Ok(FileId(meta.dev(), meta.ino()))
}

/// The identity of an open file.
#[cfg(windows)]
fn locked_id(file: &fs::File, _meta: &fs::Metadata) -> io::Result<FileId> {
    handle_id(file)
}

/// The identity of an open handle (`GetFileInformationByHandle`).
#[cfg(windows)]
fn handle_id(file: &fs::File) -> io::Result<FileId> {
    let info = winapi_util::file::information(file)?;
    Ok(FileId(info.volume_serial_number(), info.file_index()))
}

/// Open `path` and take an exclusive lock on it (std's `File::lock`: `flock` on Unix,
/// `LockFileEx` on Windows), making sure the lock is on the file the path names now:
/// another imagepin may have renamed a new file over it while this one waited. Returns
/// the locked file, its metadata and its identity.
fn lock_current(path: &Path) -> Result<(fs::File, fs::Metadata, FileId), WriteError> {
    for _ in 0..LOCK_ATTEMPTS {
        if fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(WriteError::Symlink);
        }
        let file = fs::File::open(path)?;
        file.lock()?;
        let held = file.metadata()?;
        let id = locked_id(&file, &held)?;
        if path_id(path)? == id {
            return Ok((file, held, id));
        }
    }
    Err(WriteError::Modified)
}

/// Replace `path` with `contents` via a temporary file in the same directory and a
/// rename, keeping the file's permissions and, on Unix, its owner and group (a file whose
/// owner cannot be kept is not replaced). `original` is what the file held when it was
/// read: if it changed since, nothing is written. The comparison and the rename happen
/// under an exclusive lock on the file, which every imagepin writer takes, and the file
/// is read again after the temporary one is written, right before the rename: two runs
/// at once cannot both replace the same text.
pub fn write_atomic(path: &Path, original: &[u8], contents: &[u8]) -> Result<(), WriteError> {
    let _writing = WRITING.read().unwrap_or_else(|p| p.into_inner());
    let (mut locked, meta, id) = lock_current(path)?;
    if meta.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    // Not a symlink, so these are the file's own permissions.
    let permissions = meta.permissions();
    let dir = dir_of(path);
    // Created with the file's permissions (the umask may narrow them; then they are
    // set again): a chmod is a journaled metadata change, costly across many files.
    // (Windows: permissions are the read-only attribute, and the file is not read-only.)
    let mut tmp = tempfile::Builder::new()
        .prefix(".imagepin-")
        .suffix(".tmp")
        .permissions(permissions.clone())
        .tempfile_in(dir)?;
    #[cfg(unix)]
    keep_owner(tmp.as_file(), &meta)?;
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
    if current != original || path_id(path)? != id {
        return Err(WriteError::Modified);
    }
    replace(tmp, path).map_err(|e| {
        // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION.
        #[cfg(windows)]
        if matches!(e.raw_os_error(), Some(5 | 32)) {
            return WriteError::Replace(e);
        }
        WriteError::Io(e)
    })?;
    drop(locked);
    Ok(())
}

/// Give the temporary file the owner and group of the file it replaces, where they
/// differ (another user's file, writable through its group or by root).
#[cfg(unix)]
fn keep_owner(tmp: &fs::File, meta: &fs::Metadata) -> Result<(), WriteError> {
    use std::os::unix::fs::MetadataExt;
    let created = tmp.metadata()?;
    if (created.uid(), created.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(tmp, Some(meta.uid()), Some(meta.gid())).map_err(|source| {
            WriteError::Owner {
                uid: meta.uid(),
                gid: meta.gid(),
                source,
            }
        })?;
    }
    Ok(())
}

/// Rename the written temporary file over `path`, or remove it. This is std's `rename`
/// rather than tempfile's `persist`: the same `rename(2)` on Unix, but on Windows std
/// renames with POSIX semantics (`FileRenameInfoEx`, Windows 10 1607 and later), which
/// replaces a file that is open — as the locked one is — where `persist`'s `MoveFileExW`
/// refuses to. `keep` first clears the temporary-file attribute tempfile sets on Windows.
fn replace(tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    let (file, kept) = tmp.keep().map_err(|e| e.error)?;
    drop(file);
    fs::rename(&kept, path).inspect_err(|_| {
        let _ = fs::remove_file(&kept);
    })
}

/// Create or replace a file imagepin makes itself (the lock) with `contents`, atomically
/// (a temporary file beside it, then a rename), readable as a new file would be (the
/// umask decides): no reader ever sees half of it.
pub fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let _writing = WRITING.read().unwrap_or_else(|p| p.into_inner());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".imagepin-").suffix(".tmp");
    // tempfile's own mode is 0600; Windows has no modes (the folder's ACL applies).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir_of(path))?;
    tmp.write_all(contents)?;
    replace(tmp, path)
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

    /// The permission bits of a file.
    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    fn set_mode(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn atomic_write_keeps_mode_and_refuses_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, "old").unwrap();
        #[cfg(unix)]
        set_mode(&p, 0o640);
        write_atomic(&p, b"old", b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o640);
        assert!(matches!(
            write_atomic(&p, b"old", b"newer"),
            Err(WriteError::Modified)
        ));
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    /// The replacement happens while imagepin holds the file open and locked, and while
    /// a reader has it open: on Windows this takes std's POSIX-semantics rename
    /// (`MoveFileExW` refuses a target that is open). The reader keeps what it opened.
    #[test]
    fn a_file_open_elsewhere_is_replaced_and_its_reader_keeps_the_old_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, "old").unwrap();
        let mut reader = fs::File::open(&p).unwrap();
        write_atomic(&p, b"old", b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let mut seen = String::new();
        io::Read::read_to_string(&mut reader, &mut seen).unwrap();
        assert_eq!(seen, "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A file another program holds open without sharing deletion is not replaced: the
    /// run says why, the file keeps its text, and no temporary file is left.
    #[cfg(windows)]
    #[test]
    fn a_file_held_without_delete_sharing_is_not_replaced_and_says_why() {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_SHARE_READ: u32 = 1;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, "old").unwrap();
        let _holder = fs::OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ)
            .open(&p)
            .unwrap();
        let err = write_atomic(&p, b"old", b"new").unwrap_err();
        assert!(matches!(err, WriteError::Replace(_)), "{err}");
        assert!(err.to_string().contains("another program"), "{err}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A file's identity is the file's, not the path's: the same through the path and
    /// through an open handle, another once a new file is renamed over the path.
    #[test]
    fn file_ids_follow_files_not_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yaml");
        let q = dir.path().join("q.yaml");
        fs::write(&p, "p").unwrap();
        fs::write(&q, "q").unwrap();
        let open = fs::File::open(&p).unwrap();
        let held = locked_id(&open, &open.metadata().unwrap()).unwrap();
        assert_eq!(path_id(&p).unwrap(), held);
        assert_ne!(path_id(&q).unwrap(), held);
        // Closed first: Wine replaces no open file (Windows does, see above); q's
        // identity differs from p's as both files exist.
        drop(open);
        fs::rename(&q, &p).unwrap();
        assert_ne!(path_id(&p).unwrap(), held);
    }

    /// The lock `write_atomic` takes excludes every other locker (another imagepin)
    /// until it is released.
    #[test]
    fn the_lock_excludes_other_writers_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yaml");
        fs::write(&p, "old").unwrap();
        let (locked, _, _) = lock_current(&p).unwrap();
        let other = fs::File::open(&p).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        drop(locked);
        other.try_lock().unwrap();
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

    /// A symbolic link to a file. Windows allows one only with a privilege (an
    /// administrator, or Developer Mode): without it, says so and gives `false`.
    fn symlink(target: &Path, link: &Path) -> bool {
        #[cfg(unix)]
        let made = std::os::unix::fs::symlink(target, link);
        #[cfg(windows)]
        let made = std::os::windows::fs::symlink_file(target, link);
        match made {
            Ok(()) => true,
            Err(e) if cfg!(windows) && e.kind() == io::ErrorKind::PermissionDenied => {
                eprintln!("symbolic links need a privilege here ({e}): that part not run");
                false
            }
            Err(e) => panic!("symlink: {e}"),
        }
    }

    #[test]
    fn symlinks_and_read_only_files_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.yaml");
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("l.yaml");
        if symlink(&target, &link) {
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
        }
        // 0444 on Unix; the read-only attribute on Windows.
        let mut read_only = fs::metadata(&target).unwrap().permissions();
        read_only.set_readonly(true);
        fs::set_permissions(&target, read_only).unwrap();
        assert!(matches!(
            write_atomic(&target, b"old", b"new"),
            Err(WriteError::ReadOnly)
        ));
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
    }
}
