//! Criterion benchmarks of the hot paths on the real-world corpus in `testdata/corpus/`:
//! reference parsing, each scanner (YAML, Dockerfile, JSONC), the fast YAML reader
//! against the complete one, and span rewriting.
//! Run with `cargo bench --bench hot_paths`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imagepin::reference::Reference;
use imagepin::rewrite::{self, Edit};
use imagepin::scan::{self, FileKind};
use imagepin::yaml::{fast, full};

fn corpus() -> Vec<(PathBuf, String, FileKind)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let (Some(kind), Ok(text)) =
                (scan::kind_for(&path), std::fs::read_to_string(&path))
            {
                out.push((path, text, kind));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn benches(c: &mut Criterion) {
    let files = corpus();
    let references: Vec<String> = files
        .iter()
        .filter_map(|(p, t, k)| scan::scan_source(p, t, *k).ok())
        .flatten()
        .map(|f| f.text)
        .collect();

    let mut g = c.benchmark_group("reference");
    g.throughput(Throughput::Elements(references.len() as u64));
    g.bench_function("parse corpus references", |b| {
        b.iter(|| {
            for r in &references {
                let _ = black_box(Reference::parse(black_box(r)));
            }
        })
    });
    g.finish();

    for (name, kinds) in [
        ("yaml", &[FileKind::Yaml, FileKind::Json][..]),
        ("dockerfile", &[FileKind::Dockerfile][..]),
        ("jsonc", &[FileKind::Jsonc][..]),
    ] {
        let subset: Vec<&(PathBuf, String, FileKind)> =
            files.iter().filter(|f| kinds.contains(&f.2)).collect();
        let bytes: usize = subset.iter().map(|f| f.1.len()).sum();
        let mut g = c.benchmark_group("scan");
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{name} ({} files)", subset.len()), |b| {
            b.iter(|| {
                for (p, t, k) in &subset {
                    let _ = black_box(scan::scan_source(p, t, *k));
                }
            })
        });
        g.finish();
    }

    // The two YAML readers on the YAML the fast one takes (nearly all of it).
    let taken: Vec<&str> = files
        .iter()
        .filter(|f| matches!(f.2, FileKind::Yaml | FileKind::Json))
        .map(|f| f.1.as_str())
        .filter(|t| fast::read(t).is_some())
        .collect();
    let bytes: usize = taken.iter().map(|t| t.len()).sum();
    let mut g = c.benchmark_group("yaml reader");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(format!("fast ({} files)", taken.len()), |b| {
        b.iter(|| {
            for t in &taken {
                let _ = black_box(fast::read(black_box(t)));
            }
        })
    });
    g.bench_function(format!("complete ({} files)", taken.len()), |b| {
        b.iter(|| {
            for t in &taken {
                let _ = black_box(full::read(black_box(t)).is_ok());
            }
        })
    });
    g.finish();

    // Rewriting: pin every reference of the largest corpus file.
    let (path, text, kind) = files
        .iter()
        .max_by_key(|f| {
            scan::scan_source(&f.0, &f.1, f.2)
                .map(|v| v.len())
                .unwrap_or(0)
        })
        .expect("a file");
    let edits: Vec<Edit> = scan::scan_source(path, text, *kind)
        .expect("scans")
        .iter()
        .map(|f| Edit {
            span: f.span.end..f.span.end,
            replacement: format!("@sha256:{}", "a".repeat(64)),
        })
        .collect();
    let mut g = c.benchmark_group("rewrite");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function(format!("apply {} edits", edits.len()), |b| {
        b.iter(|| black_box(rewrite::apply(black_box(text), black_box(&edits))))
    });
    g.finish();
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
