//! End-to-end figures, printed in one run (not a timed test):
//!
//! - **Resolution.** A real registry behind a loopback proxy adding latency to every
//!   request (20 ms, `IMAGEPIN_BENCH_LATENCY_MS`), 300 repositories, 1,500 Kubernetes
//!   manifests with 4 references each. `imagepin fix` wall time against a one-at-a-time
//!   HEAD loop over a kept-alive connection (the floor for sequential work), their
//!   ratio, manifest requests per unique reference and manifest GETs.
//! - **Scanning.** `imagepin check` over `testdata/corpus/` copied 20 times against
//!   ripgrep searching the same tree for `image:|FROM`: times, ratio, MB/s and peak RSS
//!   (`/usr/bin/time -v`); and `check` on a 10-file repository (start-up).
//!
//! Needs `docker-registry`, `rg` and `/usr/bin/time` (`scripts/bench` installs them).
//! Run with `cargo bench --bench end_to_end`.

#[path = "../tests/support/faults.rs"]
#[allow(dead_code)]
mod faults;
#[path = "../tests/support/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use faults::FaultProxy;
use registry::TestRegistry;

const REPOS: usize = 300;
const MANIFESTS: usize = 1_500;
const REFS_PER_MANIFEST: usize = 4;
const CORPUS_COPIES: usize = 20;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_imagepin")
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"end_to_end".contains(&a))
    {
        return;
    }
    machine();
    resolution();
    if std::env::var_os("IMAGEPIN_BENCH_ONLY_RESOLUTION").is_none() {
        scanning();
    }
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores, {cpu}");
}

fn resolution() {
    let latency = Duration::from_millis(
        std::env::var("IMAGEPIN_BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    // `imagepin --concurrency` for the runs (its default when unset).
    let concurrency = std::env::var("IMAGEPIN_BENCH_CONCURRENCY").ok();
    let reg = TestRegistry::start();
    let seeding = Instant::now();
    for i in 0..REPOS {
        reg.push_image(&format!("bench/app{i}"), "1.0", &format!("s{i}"));
    }
    println!(
        "seeded {REPOS} repositories in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let tree = tempfile::tempdir().expect("tempdir");
    for m in 0..MANIFESTS {
        let mut yaml = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{m}\nspec:\n  template:\n    spec:\n      containers:\n"
        );
        for k in 0..REFS_PER_MANIFEST {
            let repo = (m * REFS_PER_MANIFEST + k * 7) % REPOS;
            yaml.push_str(&format!(
                "      - name: c{k}\n        image: bench/app{repo}:1.0\n"
            ));
        }
        let dir = tree.path().join(format!("team{}", m % 30));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("deploy{m}.yaml")), yaml).expect("write");
    }

    // The floor: one HEAD at a time over one kept-alive connection, zero overhead.
    let proxy = FaultProxy::start_with_latency(&reg.host(), vec![], latency);
    let started = Instant::now();
    let mut conn = TcpStream::connect(proxy.url().trim_start_matches("http://")).expect("connect");
    for i in 0..REPOS {
        let req = format!(
            "HEAD /v2/bench/app{i}/manifests/1.0 HTTP/1.1\r\nHost: bench\r\nAccept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json\r\n\r\n"
        );
        conn.write_all(req.as_bytes()).expect("send");
        read_head_answer(&mut conn);
    }
    let floor = started.elapsed();

    // Resolution alone (dry run: nothing written), then the real run, each through a
    // fresh proxy so the request counts below are the real run's alone.
    let fix = |extra: &[&str]| {
        let proxy = FaultProxy::start_with_latency(&reg.host(), vec![], latency);
        let started = Instant::now();
        let out = Command::new(bin())
            .args([
                "fix",
                "-q",
                "--mirror",
                &format!("docker.io={}", proxy.url()),
            ])
            .args(extra)
            .args(concurrency.iter().flat_map(|c| ["--concurrency", c]))
            .current_dir(tree.path())
            .output()
            .expect("run imagepin");
        let wall = started.elapsed();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (wall, proxy)
    };
    let (dry_wall, _) = fix(&["--dry-run"]);
    let (wall, proxy) = fix(&[]);
    let heads = proxy.manifest_requests("HEAD");
    let gets = proxy.manifest_requests("GET");
    let all = proxy.seen().len();

    println!(
        "\n== resolution: {MANIFESTS} manifests x {REFS_PER_MANIFEST} references, {REPOS} unique, {} ms latency per request",
        latency.as_millis()
    );
    println!(
        "imagepin fix wall time        {:>8.3} s",
        wall.as_secs_f64()
    );
    println!(
        "  of which --dry-run (no writes) {:>7.3} s",
        dry_wall.as_secs_f64()
    );
    println!(
        "sequential HEAD loop (floor)  {:>8.3} s",
        floor.as_secs_f64()
    );
    println!(
        "ratio fix / floor             {:>8.3}   (target <= 0.10)",
        wall.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "manifest requests / unique    {:>8.3}   (target 1.0)",
        heads as f64 / REPOS as f64
    );
    println!("manifest GETs                 {gets:>8}   (target 0)");
    println!("all requests                  {all:>8}");
}

/// Read one HEAD answer (headers only) from a kept-alive connection.
fn read_head_answer(conn: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).expect("read") == 0 {
            panic!("connection closed");
        }
        buf.push(byte[0]);
    }
}

fn scanning() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let tree = tempfile::tempdir().expect("tempdir");
    for i in 0..CORPUS_COPIES {
        copy_dir(&corpus, &tree.path().join(format!("copy{i}")));
    }
    let bytes = dir_bytes(tree.path());
    let mb = bytes as f64 / 1e6;

    let check = best_of(3, || {
        Command::new(bin())
            .args(["check", "-q"])
            .current_dir(tree.path())
            .output()
            .expect("check");
    });
    let rg = best_of(3, || {
        Command::new("rg")
            .args(["-c", "image:|FROM", "."])
            .current_dir(tree.path())
            .output()
            .expect("rg (apt-get install ripgrep)");
    });
    let rss = peak_rss_kb(tree.path(), &[bin(), "check", "-q"]);
    let rg_rss = peak_rss_kb(tree.path(), &["rg", "-c", "image:|FROM", "."]);

    let small = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = walk_files(&corpus)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .take(10)
        .collect();
    for (i, f) in files.iter().enumerate() {
        std::fs::copy(f, small.path().join(format!("f{i}.yaml"))).expect("copy");
    }
    let startup = best_of(10, || {
        Command::new(bin())
            .args(["check", "-q"])
            .current_dir(small.path())
            .output()
            .expect("check");
    });

    println!("\n== scanning: testdata/corpus x {CORPUS_COPIES} = {mb:.1} MB");
    println!(
        "imagepin check                {:>8.3} s   {:>7.1} MB/s   peak RSS {:>6} KB",
        check.as_secs_f64(),
        mb / check.as_secs_f64(),
        rss
    );
    println!(
        "rg 'image:|FROM'              {:>8.3} s   {:>7.1} MB/s   peak RSS {:>6} KB",
        rg.as_secs_f64(),
        mb / rg.as_secs_f64(),
        rg_rss
    );
    println!(
        "ratio check / rg              {:>8.2}   (target <= 3)",
        check.as_secs_f64() / rg.as_secs_f64()
    );
    println!(
        "check on a 10-file repository {:>8.1} ms  (target <= 20 ms)",
        startup.as_secs_f64() * 1e3
    );
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn peak_rss_kb(dir: &Path, cmd: &[&str]) -> String {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .args(cmd)
        .current_dir(dir)
        .output();
    let Ok(out) = out else {
        return "n/a (apt-get install time)".into();
    };
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
                .map(str::to_string)
        })
        .unwrap_or_else(|| "n/a".into())
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for f in walk_files(from) {
        let rel = f.strip_prefix(from).expect("prefix");
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, dst).expect("copy");
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    walk_files(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}
