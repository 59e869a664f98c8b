//! Walking: find the files to scan under the paths the user gave, in parallel,
//! honouring `.gitignore`, `.ignore` and `.imagepinignore` and looking inside hidden
//! folders such as `.github` (never `.git`); with `--changed-since`, only the changed
//! files, entering only directories that hold one. Git's ignore files count as git
//! counts them: only inside a repository, from its root down (a `.gitignore` above the
//! repository, such as one in a home directory, never hides it). The walk first lists
//! the files; pre-passes then learn what one file says about others (which files
//! GitLab CI pipelines include: [`gitlab`]; which other files of a Terraform module
//! named in part hold what the named files use: [`terraform`]); then every file is
//! read once and scanned, in parallel. The caller receives scanned files in path order.

mod gitlab;
mod terraform;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};

use crate::changed::ChangedFiles;
use crate::config::{CONFIG_NAMES, Exclude, ScanSettings};
use crate::finding::Finding;
use crate::finding::Skipped;
use crate::scan::hcl::Scope;
use crate::scan::{self, FileKind};

/// One scanned file with its findings. The text is kept only when asked for
/// (commands that rewrite need it; `check` does not).
#[derive(Debug)]
pub struct ScannedFile {
    pub path: PathBuf,
    pub findings: Vec<Finding>,
    pub source: Option<String>,
    /// How the text was read (a re-scan of edited text must read it the same way).
    pub kind: FileKind,
    /// How much of its Terraform module it was read for (likewise).
    pub scope: Scope,
    /// The name the text was scanned as, when it is not `path` (stdin read as if it
    /// were a file of that name): it decides the reader and the rules.
    pub scanned_as: Option<PathBuf>,
    /// Its parts that could not be read (also in [`Scan::skipped`]): never written,
    /// and still there, unchanged, after an edit of the rest.
    pub skipped: Vec<Skipped>,
}

impl ScannedFile {
    /// The path whose name decides how the text is read.
    pub fn scan_path(&self) -> &Path {
        self.scanned_as.as_deref().unwrap_or(&self.path)
    }
}

/// A file the walk found, not yet read.
struct Entry {
    path: PathBuf,
    /// From its name; `None` for a file named on the command line whose name says
    /// nothing (its content decides).
    kind: Option<FileKind>,
    scope: Scope,
}

/// What a walk produced.
#[derive(Debug, Default)]
pub struct Scan {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<Skipped>,
    /// Configs met below the paths given that this run does not use (see
    /// [`ScanSettings::found_config`]).
    pub unused_configs: Vec<PathBuf>,
    /// References left out by `imagepin: ignore` comments and `ignore:` patterns.
    pub ignored: usize,
}

/// Walk `roots` and scan every file imagepin understands, leaving out excluded paths
/// and ignored images. `keep_source` decides, per scanned file, whether its text is
/// kept for rewriting.
pub fn scan_paths(
    roots: &[PathBuf],
    settings: &ScanSettings,
    keep_source: &(dyn Fn(&[Finding]) -> bool + Sync),
) -> Scan {
    let result = Mutex::new(Scan::default());
    // Roots as given, and where they really are (for `exclude:` globs).
    let real_roots: Vec<(PathBuf, PathBuf)> = roots
        .iter()
        .map(|r| {
            (
                r.clone(),
                std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()),
            )
        })
        .collect();
    let builder = walker(
        &real_roots,
        settings.exclude.clone(),
        settings.changed.clone(),
    );
    let entries: Mutex<Vec<Entry>> = Mutex::default();
    let unused_configs: Mutex<Vec<PathBuf>> = Mutex::default();
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    push_skip(&result, PathBuf::new(), None, err.to_string());
                    return WalkState::Continue;
                }
            };
            let explicit = entry.depth() == 0;
            let is_file = entry.file_type().is_some_and(|t| t.is_file())
                || (explicit && entry.path().is_file());
            if !is_file {
                return WalkState::Continue;
            }
            let path = entry.path();
            if explicit
                && let Some(changed) = &settings.changed
                && !changed.has_file(&real_path(&real_roots, path))
            {
                return WalkState::Continue;
            }
            if !explicit && is_unused_config(path, settings) {
                let mut unused = unused_configs.lock().unwrap_or_else(|p| p.into_inner());
                unused.push(path.to_path_buf());
            }
            let kind = scan::kind_for(path);
            if kind.is_some() || explicit {
                let mut entries = entries.lock().unwrap_or_else(|p| p.into_inner());
                entries.push(Entry {
                    path: path.to_path_buf(),
                    kind,
                    scope: Scope::File,
                });
            }
            WalkState::Continue
        })
    });
    let mut entries = entries.into_inner().unwrap_or_else(|p| p.into_inner());
    if roots.len() > 1 {
        entries = read_once(entries);
    }
    read_as_included(&mut entries, &real_roots);
    let companions = terraform::companions(&entries, settings.exclude.as_ref());
    entries.extend(companions);
    scan_entries(&entries, settings, keep_source, &result);
    let mut scan = result.into_inner().unwrap_or_else(|p| p.into_inner());
    scan.files.sort_by(|a, b| a.path.cmp(&b.path));
    scan.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    scan.unused_configs = unused_configs
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    scan.unused_configs.sort();
    scan
}

/// A walker over `roots` (as given, and where they really are) that honours the ignore
/// files and `exclude:`, and with `changed`, enters only what leads to a changed file.
fn walker(
    roots: &[(PathBuf, PathBuf)],
    exclude: Option<Exclude>,
    changed: Option<Arc<ChangedFiles>>,
) -> WalkBuilder {
    let mut builder = WalkBuilder::new(&roots[0].0);
    for (root, _) in &roots[1..] {
        builder.add(root);
    }
    let filter_roots = roots.to_vec();
    builder
        .hidden(false)
        // Git's ignore rules apply inside a repository only, and those above its root
        // are not read (the crate stops at the directory holding `.git`).
        .require_git(true)
        .add_custom_ignore_filename(".imagepinignore")
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            if exclude.is_none() && changed.is_none() {
                return true;
            }
            let real = real_path(&filter_roots, e.path());
            let excluded = exclude
                .as_ref()
                .is_some_and(|x| e.depth() > 0 && x.matches(&real));
            let unchanged = changed.as_ref().is_some_and(|c| {
                if e.file_type().is_some_and(|t| t.is_dir()) {
                    e.depth() > 0 && !c.has_below(&real)
                } else {
                    !c.has_file(&real)
                }
            });
            !excluded && !unchanged
        });
    builder
}

/// Whether `path` is a config file other than the one this run found: a config applies
/// to the paths given under it, so one below them is not used by this run.
fn is_unused_config(path: &Path, settings: &ScanSettings) -> bool {
    let Some(found) = &settings.found_config else {
        return false;
    };
    let named = path
        .file_name()
        .is_some_and(|n| CONFIG_NAMES.iter().any(|c| n == *c));
    named && std::fs::canonicalize(path).ok().as_ref() != found.as_ref()
}

/// Paths given twice, or a file inside a directory also given (or a link to it), are
/// read once, under one name chosen the same way in every run, whatever order the
/// parallel walk met them in: a name that is not a symbolic link (which `fix` can
/// write), else the first in path order.
fn read_once(entries: Vec<Entry>) -> Vec<Entry> {
    let mut keyed: Vec<(PathBuf, bool, Entry)> = entries
        .into_iter()
        .map(|e| {
            let real = std::fs::canonicalize(&e.path).unwrap_or_else(|_| e.path.clone());
            let link = e.path.is_symlink();
            (real, link, e)
        })
        .collect();
    keyed.sort_by(|a, b| (&a.0, a.1, &a.2.path).cmp(&(&b.0, b.1, &b.2.path)));
    keyed.dedup_by(|later, first| later.0 == first.0);
    keyed.into_iter().map(|(_, _, e)| e).collect()
}

/// YAML files a GitLab CI pipeline includes are read with the GitLab rules.
fn read_as_included(entries: &mut [Entry], roots: &[(PathBuf, PathBuf)]) {
    let mut pipelines: Vec<PathBuf> = roots
        .iter()
        .filter_map(|(_, real)| gitlab::repository_pipeline(real))
        .collect();
    let mut yaml = Vec::new();
    for e in entries.iter() {
        let real = real_path(roots, &e.path);
        if e.path.file_name().is_some_and(|n| n == ".gitlab-ci.yml") {
            pipelines.push(real);
        } else if e.kind == Some(FileKind::Yaml) {
            yaml.push(real);
        }
    }
    if pipelines.is_empty() {
        return;
    }
    pipelines.sort();
    pipelines.dedup();
    let included = gitlab::included(&pipelines, &yaml);
    for e in entries
        .iter_mut()
        .filter(|e| e.kind == Some(FileKind::Yaml))
    {
        if included.contains(&real_path(roots, &e.path)) {
            e.kind = Some(FileKind::GitlabInclude);
        }
    }
}

/// Read and scan every entry, on as many threads as the walk used.
fn scan_entries(
    entries: &[Entry],
    settings: &ScanSettings,
    keep_source: &(dyn Fn(&[Finding]) -> bool + Sync),
    result: &Mutex<Scan>,
) {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(12)
        .min(entries.len().max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(e) = entries.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match scan_file(e, settings, keep_source) {
                        Ok((file, skipped, ignored)) => {
                            let mut r = lock(result);
                            r.files.extend(file);
                            r.skipped.extend(skipped);
                            r.ignored += ignored;
                        }
                        Err(skip) => lock(result).skipped.push(skip),
                    }
                }
            });
        }
    });
}

/// Where a walked path really is: its root's real location joined with the rest.
fn real_path(roots: &[(PathBuf, PathBuf)], path: &Path) -> PathBuf {
    roots
        .iter()
        .find_map(|(given, real)| path.strip_prefix(given).ok().map(|rest| real.join(rest)))
        .unwrap_or_else(|| path.to_path_buf())
}

fn lock(m: &Mutex<Scan>) -> std::sync::MutexGuard<'_, Scan> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn push_skip(m: &Mutex<Scan>, path: PathBuf, line: Option<usize>, message: String) {
    lock(m).skipped.push(Skipped {
        path,
        line,
        message,
    });
}

/// Read and scan one file: the file (`None` when it has nothing to report), the parts
/// of it that were not read, and how many of its references were ignored.
fn scan_file(
    entry: &Entry,
    settings: &ScanSettings,
    keep_source: &(dyn Fn(&[Finding]) -> bool + Sync),
) -> Result<(Option<ScannedFile>, Vec<Skipped>, usize), Skipped> {
    let Entry { path, kind, scope } = entry;
    let bytes = std::fs::read(path).map_err(|e| Skipped {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    let source = text(path, bytes)?;
    let kind = kind.unwrap_or_else(|| scan::sniff_kind(&source));
    let scan::Scanned {
        findings,
        skipped,
        ignored,
    } = scan_text(path, path, &source, kind, scope, settings)?;
    if findings.is_empty() {
        return Ok((None, skipped, ignored));
    }
    let source = keep_source(&findings).then_some(source);
    let file = ScannedFile {
        path: path.to_path_buf(),
        findings,
        source,
        kind,
        scope: scope.clone(),
        scanned_as: None,
        skipped: skipped.clone(),
    };
    Ok((Some(file), skipped, ignored))
}

/// The text of a file's bytes; binary files and text that is not UTF-8 are skipped
/// (with the line of the first invalid byte).
pub fn text(path: &Path, bytes: Vec<u8>) -> Result<String, Skipped> {
    let skip = |line: Option<usize>, message: &str| Skipped {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    };
    if memchr::memchr(0, &bytes).is_some() {
        return Err(skip(None, "binary file (contains NUL bytes); skipped"));
    }
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        skip(Some(line), "not valid UTF-8; skipped")
    })
}

/// Scan a text read as `kind` (for `scope` of its Terraform module) as if it were the
/// file `scanned_as` (its name decides the rules); findings and skips name `path`.
/// Ignored images are left out.
pub fn scan_text(
    path: &Path,
    scanned_as: &Path,
    source: &str,
    kind: FileKind,
    scope: &Scope,
    settings: &ScanSettings,
) -> Result<scan::Scanned, Skipped> {
    let named = |mut s: Skipped| {
        s.path = path.to_path_buf();
        s
    };
    let mut scanned = scan::scan_file(scanned_as, source, kind, scope).map_err(named)?;
    let before = scanned.findings.len();
    scanned.findings.retain(|f| !settings.ignore.matches(f));
    scanned.ignored += before - scanned.findings.len();
    if scanned_as != path {
        for f in &mut scanned.findings {
            f.path = path.to_path_buf();
        }
        scanned.skipped = scanned.skipped.into_iter().map(named).collect();
    }
    Ok(scanned)
}
