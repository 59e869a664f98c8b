//! End-to-end figures, printed in one run (not a timed test):
//!
//! - **Resolution.** A real registry behind a loopback proxy adding latency to every
//!   request (20 ms, `IMAGEPIN_BENCH_LATENCY_MS`), 300 repositories, 1,500 Kubernetes
//!   manifests with 4 references each. `imagepin fix` wall time against a one-at-a-time
//!   HEAD loop over a kept-alive connection (the floor for sequential work), their
//!   ratio, manifest requests per unique reference and manifest GETs.
//! - **Every command.** 100 multi-arch references behind the same latency: `fix`,
//!   `fix --platform`, `verify` (index pins, `--strict`, platform pins) and `update` of
//!   index and platform pins after 50 of the tags moved, each with its wall time, its
//!   ratio to `fix`'s and its requests by kind.
//! - **Tokens.** The 300 repositories behind token auth (the test token server, 20 ms
//!   on the registry and on the token server): `fix --dry-run` requests (manifest,
//!   token, ping) and wall time against the same run without auth, and against a token
//!   server that grants only the first scope (one token per repository).
//! - **Scanning.** `imagepin check` over `testdata/corpus/` copied 20 times against
//!   ripgrep searching the same tree for `image:|FROM`: times, ratio, MB/s and peak RSS
//!   (`/usr/bin/time -v`); and `check` on a 10-file repository (start-up).
//! - **Monorepo.** A generated tree of 10,000, then 30,000, then 100,000 files (source
//!   code, docs, binaries, JSON, YAML with and without images, Dockerfiles, compose
//!   files): `check` against `rg -c 'image:|^FROM '`, wall time and peak RSS.
//!
//! `IMAGEPIN_BENCH_SECTIONS=resolution,commands,tokens,scanning,monorepo` picks
//! sections (default: all); `IMAGEPIN_BENCH_BIN=PATH` measures another imagepin build. Needs `docker-registry`, `rg` and `/usr/bin/time`
//! (`scripts/bench` installs them). Run with `cargo bench --bench end_to_end`.

#[path = "../tests/support/faults.rs"]
#[allow(dead_code)]
mod faults;
#[path = "../tests/support/registry.rs"]
#[allow(dead_code)]
mod registry;
#[path = "../tests/support/token.rs"]
#[allow(dead_code)]
mod token;

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

/// The binary measured: this build, or `IMAGEPIN_BENCH_BIN` (to compare another).
fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("IMAGEPIN_BENCH_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_imagepin").to_string())
    })
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
    let sections = std::env::var("IMAGEPIN_BENCH_SECTIONS").unwrap_or_else(|_| {
        if std::env::var_os("IMAGEPIN_BENCH_ONLY_RESOLUTION").is_some() {
            "resolution".into()
        } else {
            "resolution,commands,tokens,scanning,monorepo".into()
        }
    });
    let wants = |name: &str| sections.split(',').any(|s| s.trim() == name);
    let latency = Duration::from_millis(
        std::env::var("IMAGEPIN_BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    if wants("resolution") || wants("tokens") {
        let (reg, tree) = seeded_repositories();
        if wants("tokens") {
            // Dry runs: the tree stays unpinned for the resolution runs.
            tokens(&reg, tree.path(), latency);
        }
        if wants("resolution") {
            resolution(&reg, tree.path(), latency);
        }
    }
    if wants("commands") {
        commands(latency);
    }
    if wants("scanning") {
        scanning();
    }
    if wants("monorepo") {
        monorepo();
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

/// `imagepin --concurrency` for the runs (its default when unset).
fn concurrency() -> Vec<String> {
    std::env::var("IMAGEPIN_BENCH_CONCURRENCY")
        .ok()
        .map(|c| vec!["--concurrency".to_string(), c])
        .unwrap_or_default()
}

/// A registry with 300 repositories and 1,500 manifests naming them.
fn seeded_repositories() -> (TestRegistry, tempfile::TempDir) {
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
    (reg, tree)
}

fn resolution(reg: &TestRegistry, tree: &Path, latency: Duration) {
    let concurrency = concurrency();
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
            .args(&concurrency)
            .current_dir(tree)
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

/// Requests a proxy saw, by kind.
struct Counted {
    heads: usize,
    manifest_gets: usize,
    blob_gets: usize,
    pings: usize,
    all: usize,
}

impl Counted {
    fn of(proxy: &FaultProxy) -> Counted {
        let seen = proxy.seen();
        let count = |method: &str, part: &str| {
            seen.iter()
                .filter(|(m, p)| m == method && p.contains(part))
                .count()
        };
        Counted {
            heads: count("HEAD", "/manifests/"),
            manifest_gets: count("GET", "/manifests/"),
            blob_gets: count("GET", "/blobs/"),
            pings: seen.iter().filter(|(_, p)| p == "/v2/").count(),
            all: seen.len(),
        }
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>4} requests ({} HEAD, {} manifest GET, {} blob GET, {} ping)",
            self.all, self.heads, self.manifest_gets, self.blob_gets, self.pings
        )
    }
}

/// One imagepin run: its wall time, its own CPU time (user + system: what the
/// loopback registry and proxy spend on the same two cores is not in it), what the
/// proxy saw, and its exit code.
struct Run {
    wall: Duration,
    cpu: Option<Duration>,
    counted: Counted,
    code: Option<i32>,
}

/// Run imagepin in `dir` with Docker Hub behind `proxy` (fresh: it counts this run's
/// requests), under `/usr/bin/time` for its CPU time.
fn timed_run(proxy: &FaultProxy, dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let times = tempfile::NamedTempFile::new().expect("temp file");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%U %S", "-o"])
        .arg(times.path())
        .arg(bin())
        .args(args)
        .args(["-q", "--mirror", &format!("docker.io={}", proxy.url())])
        .args(concurrency())
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run imagepin under /usr/bin/time");
    let wall = started.elapsed();
    let cpu = std::fs::read_to_string(times.path()).ok().and_then(|t| {
        let secs: Option<Vec<f64>> = t
            .lines()
            .last()?
            .split(' ')
            .map(|f| f.parse().ok())
            .collect();
        Some(Duration::from_secs_f64(secs?.iter().sum()))
    });
    Run {
        wall,
        cpu,
        counted: Counted::of(proxy),
        code: out.status.code(),
    }
}

/// One timed run: its wall time, as a multiple of `base`, imagepin's CPU time, exit
/// code and requests.
fn print_run(name: &str, run: &Run, base: Duration, extra: &str) {
    println!(
        "{name:<44} {:>6.3} s  x{:<5.2} cpu {:>5}  exit {}  {}{extra}",
        run.wall.as_secs_f64(),
        run.wall.as_secs_f64() / base.as_secs_f64(),
        run.cpu
            .map_or("-".into(), |c| format!("{:.2}", c.as_secs_f64())),
        run.code.map_or("-".into(), |c| c.to_string()),
        run.counted,
    );
}

/// Every command on 100 multi-arch references: wall time against `fix`'s, requests.
fn commands(latency: Duration) {
    const IMAGES: usize = 100;
    const MOVED: usize = 50;
    let reg = TestRegistry::start();
    let platforms = ["linux/amd64", "linux/arm64"];
    for i in 0..IMAGES {
        reg.push_index(
            &format!("multi/app{i}"),
            "1.0",
            &platforms,
            &format!("m{i}"),
        );
    }
    let base = tempfile::tempdir().expect("tempdir");
    for file in 0..IMAGES / 5 {
        let mut yaml = String::from("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
        for k in 0..5 {
            yaml.push_str(&format!("  - image: multi/app{}:1.0\n", file * 5 + k));
        }
        std::fs::write(base.path().join(format!("pod{file}.yaml")), yaml).expect("write");
    }
    let copy = |from: &Path| {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(from, dir.path());
        dir
    };
    let host = reg.host();
    let run = |dir: &Path, args: &[&str]| {
        let proxy = FaultProxy::start_with_latency(&host, vec![], latency);
        timed_run(&proxy, dir, args, &[])
    };
    let index_pins = copy(base.path());
    let platform_pins = copy(base.path());
    let mut rows = vec![
        ("fix", run(index_pins.path(), &["fix"])),
        (
            "fix --platform linux/amd64",
            run(platform_pins.path(), &["fix", "--platform", "linux/amd64"]),
        ),
        ("verify (index pins)", run(index_pins.path(), &["verify"])),
        (
            "verify --strict (index pins)",
            run(index_pins.path(), &["verify", "--strict"]),
        ),
        (
            "verify (platform pins)",
            run(platform_pins.path(), &["verify"]),
        ),
        (
            "verify --platform (platform pins)",
            run(
                platform_pins.path(),
                &["verify", "--platform", "linux/amd64"],
            ),
        ),
    ];
    for i in 0..MOVED {
        reg.push_index(
            &format!("multi/app{i}"),
            "1.0",
            &platforms,
            &format!("m{i}-2"),
        );
    }
    rows.push((
        "verify (index pins, 50 drifted)",
        run(index_pins.path(), &["verify"]),
    ));
    rows.push((
        "update (index pins, 50 moved)",
        run(copy(index_pins.path()).path(), &["update"]),
    ));
    rows.push((
        "update (platform pins, 50 moved)",
        run(copy(platform_pins.path()).path(), &["update"]),
    ));
    rows.push((
        "update --platform (platform pins, 50 moved)",
        run(
            copy(platform_pins.path()).path(),
            &["update", "--platform", "linux/amd64"],
        ),
    ));

    println!(
        "\n== every command: {IMAGES} multi-arch references (2 platforms), {} ms latency per request",
        latency.as_millis()
    );
    for (name, run) in &rows {
        print_run(name, run, rows[0].1.wall, "");
    }
    println!(
        "targets: each <= 1.5 x fix; verify <= 1.1 requests per unique pin when nothing drifted"
    );
}

/// The 300 repositories behind token auth against the same run without auth.
fn tokens(reg: &TestRegistry, tree: &Path, latency: Duration) {
    let config = tempfile::tempdir().expect("tempdir");
    let none = config.path().join("none.json");
    let proxy = FaultProxy::start_with_latency(&reg.host(), vec![], latency);
    let plain = timed_run(&proxy, tree, &["fix", "--dry-run"], &[]);
    let mut rows = vec![("no auth", plain, 0)];
    for (name, first_scope_only) in [
        ("token auth", false),
        ("token auth, first scope only", true),
    ] {
        let options = token::TokenOptions {
            latency,
            first_scope_only,
            ..token::TokenOptions::default()
        };
        let tokened = token::TokenRegistry::start_with_options(reg, &options);
        let proxy = FaultProxy::start_with_latency(&tokened.host(), vec![], latency);
        // Credentials for the proxy's host: `bench/*` is not public.
        let auth =
            registry::base64_encode(format!("{}:{}", token::USER, token::PASSWORD).as_bytes());
        let host = proxy.url().trim_start_matches("http://").to_string();
        std::fs::write(
            config.path().join("config.json"),
            format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
        )
        .expect("write docker config");
        let env = [
            ("DOCKER_CONFIG", config.path()),
            ("REGISTRY_AUTH_FILE", none.as_path()),
        ];
        let result = timed_run(&proxy, tree, &["fix", "--dry-run"], &env);
        rows.push((name, result, tokened.token_requests().len()));
    }
    println!(
        "\n== tokens: {REPOS} repositories, {} ms latency on the registry and on the token server",
        latency.as_millis()
    );
    for (name, run, tokens) in &rows {
        print_run(
            name,
            run,
            rows[0].1.wall,
            &format!(", {tokens} token requests"),
        );
    }
    println!(
        "targets: token requests <= {} ; wall <= 1.2 x no auth",
        REPOS.div_ceil(50) + 1
    );
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

    let Against {
        check,
        rg,
        rss,
        rg_rss,
    } = against_ripgrep(tree.path(), "image:|FROM");

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

/// `check` on a generated monorepo of 10k, 30k and 100k files against ripgrep.
fn monorepo() {
    let tree = tempfile::tempdir().expect("tempdir");
    let mut written = 0;
    println!(
        "\n== monorepo: generated tree (55 % source, 9 % Kubernetes, 6 % other YAML, 3 % Dockerfiles, 2 % compose, 5 % JSON, 8 % Markdown, 8 % binaries, 4 % other)"
    );
    println!(
        "{:>7} {:>7}  {:>9} {:>9} {:>6}  {:>9} {:>9}  {:>10}",
        "files", "MB", "check s", "rg s", "ratio", "check RSS", "rg RSS", "check us/file"
    );
    for files in [10_000, 30_000, 100_000] {
        while written < files {
            write_monorepo_file(tree.path(), written);
            written += 1;
        }
        let mb = dir_bytes(tree.path()) as f64 / 1e6;
        let Against {
            check,
            rg,
            rss,
            rg_rss,
        } = against_ripgrep(tree.path(), "image:|^FROM ");
        println!(
            "{files:>7} {mb:>7.1}  {:>9.3} {:>9.3} {:>6.2}  {:>6} KB {:>6} KB  {:>10.1}",
            check.as_secs_f64(),
            rg.as_secs_f64(),
            check.as_secs_f64() / rg.as_secs_f64(),
            rss,
            rg_rss,
            check.as_secs_f64() * 1e6 / files as f64
        );
    }
    println!("targets: ratio <= 2, check RSS <= 64 MB, time per file flat");
}

/// File number `i` of the generated monorepo: what it is depends on `i % 100`, where it
/// lives on `i / 100` (directories of 100 files, 10 to a package).
fn write_monorepo_file(root: &Path, i: usize) {
    let dir = root.join(format!("pkg{}/mod{}", i / 1000, (i / 100) % 10));
    if i.is_multiple_of(100) {
        std::fs::create_dir_all(&dir).expect("mkdir");
    }
    let (name, body): (String, Vec<u8>) = match i % 100 {
        0..=8 => (
            format!("deploy{i}.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc{i}\n  labels:\n    app: svc{i}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: svc{i}\n  template:\n    metadata:\n      labels:\n        app: svc{i}\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/team{}/svc{i}:1.{}\n        ports:\n        - containerPort: 8080\n        resources:\n          limits: {{cpu: 500m, memory: 256Mi}}\n      - name: cache\n        image: redis:7\n",
                i % 17,
                i % 10
            )
            .into_bytes(),
        ),
        9..=14 => (
            format!("config{i}.yaml"),
            format!(
                "server:\n  port: 8080\n  host: 0.0.0.0\nlogging:\n  level: info\n  format: json\nfeatures:\n{}",
                (0..20).map(|k| format!("  flag{k}: {}\n", (i + k).is_multiple_of(2))).collect::<String>()
            )
            .into_bytes(),
        ),
        15..=17 => (
            format!("svc{i}.Dockerfile"),
            b"# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app ./cmd/app\n\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /app /app\nUSER nonroot\nENTRYPOINT [\"/app\"]\n".to_vec(),
        ),
        18..=19 => (
            format!("docker-compose.{i}.yml"),
            format!(
                "services:\n  web:\n    image: nginx:1.25\n    ports: [\"80:80\"]\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_DB: app{i}\n"
            )
            .into_bytes(),
        ),
        20..=24 => (
            format!("package{i}.json"),
            format!(
                "{{\n  \"name\": \"@acme/pkg{i}\",\n  \"version\": \"1.{}.0\",\n  \"scripts\": {{\"build\": \"tsc -p .\", \"test\": \"jest\"}},\n  \"dependencies\": {{{}}}\n}}\n",
                i % 9,
                (0..15).map(|k| format!("\"dep{k}\": \"^{k}.0.0\"")).collect::<Vec<_>>().join(", ")
            )
            .into_bytes(),
        ),
        25..=79 => {
            let ext = ["go", "ts", "py", "rs", "java"][i % 5];
            let mut text = format!("// generated source file {i}\n");
            for k in 0..40 {
                text.push_str(&match ext {
                    "py" if k % 10 == 0 => format!("QUERY_{k} = \"\"\"\nSELECT id, name\nFROM users\nWHERE id = %s\n\"\"\"\n"),
                    "ts" if k % 10 == 0 => format!("export const card{k} = {{ image: 'logo{k}.png', title: 'x' }};\n"),
                    _ => format!("fn helper_{k}(value: i64) -> i64 {{ value * {k} + {i} }}\n"),
                });
            }
            (format!("file{i}.{ext}"), text.into_bytes())
        }
        80..=87 => (
            format!("README{i}.md"),
            format!(
                "# Service {i}\n\nRun it with compose:\n\n```yaml\nservices:\n  app:\n    image: acme/svc{i}:latest\n```\n\nFROM the top: build, test, ship.\n"
            )
            .into_bytes(),
        ),
        88..=95 => {
            // A PNG header and 4 KB of noise.
            let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
            let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for _ in 0..4096 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bytes.push(x as u8);
            }
            (format!("image{i}.png"), bytes)
        }
        96..=97 => (
            format!("schema{i}.sql"),
            b"SELECT o.id, o.total\nFROM orders o\nJOIN customers c ON c.id = o.customer_id\nWHERE o.total > 100;\n".to_vec(),
        ),
        _ => (
            format!("notes{i}.txt"),
            format!("notes for {i}\n").repeat(20).into_bytes(),
        ),
    };
    std::fs::write(dir.join(name), body).expect("write");
}

/// `check` against `rg -c PATTERN` on the same tree: best of three, and peak RSS.
struct Against {
    check: Duration,
    rg: Duration,
    rss: String,
    rg_rss: String,
}

fn against_ripgrep(dir: &Path, pattern: &str) -> Against {
    let check = best_of(3, || {
        Command::new(bin())
            .args(["check", "-q"])
            .current_dir(dir)
            .output()
            .expect("check");
    });
    let rg = best_of(3, || {
        Command::new("rg")
            .args(["-c", pattern, "."])
            .current_dir(dir)
            .output()
            .expect("rg (apt-get install ripgrep)");
    });
    Against {
        check,
        rg,
        rss: peak_rss_kb(dir, &[bin(), "check", "-q"]),
        rg_rss: peak_rss_kb(dir, &["rg", "-c", pattern, "."]),
    }
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
