//! The GitHub Action's install logic (`scripts/install`, run by `action.yml`), run as the
//! shell script it is against Python's `http.server` on loopback standing in for the
//! release download: the binary is installed only when its SHA-256 matches SHA256SUMS, a
//! cached binary is re-checked, a Windows runner gets the `.exe`, and a release without a
//! binary for the platform (or no release at all) falls back to `cargo install --locked`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use sha2::{Digest, Sha256};

const TARGET: &str = "x86_64-unknown-linux-musl";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `python3 -m http.server` serving `dir` on a free loopback port; its request log (stderr)
/// goes to `dir/../requests.log`. Killed on drop.
struct FileServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl FileServer {
    fn start(dir: &Path) -> FileServer {
        let log = dir.parent().expect("parent").join("requests.log");
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .arg("--directory")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("python3 runs (the test's file server is Python's http.server)");
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("http.server says where it listens");
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        FileServer { child, port, log }
    }

    fn base(&self, version: &str) -> String {
        format!("http://127.0.0.1:{}/v{version}", self.port)
    }

    /// The paths asked for so far, in order.
    fn requests(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split('"').nth(1))
            .filter_map(|req| req.split_whitespace().nth(1).map(str::to_string))
            .collect()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release directory `v<version>/` holding `binary` as the Linux asset and a SHA256SUMS
/// whose line for it says `listed_sha` (the binary's own SHA-256 unless a test lies).
fn release(dir: &Path, version: &str, binary: &[u8], listed_sha: &str) {
    release_asset(
        dir,
        version,
        &format!("imagepin-{TARGET}"),
        binary,
        listed_sha,
    );
}

/// A release directory `v<version>/` holding `binary` as `asset`, and a SHA256SUMS listing
/// a macOS, the Linux and the Windows asset: `asset` with `listed_sha`, the others with a
/// checksum that matches nothing.
fn release_asset(dir: &Path, version: &str, asset: &str, binary: &[u8], listed_sha: &str) {
    let rel = dir.join(format!("v{version}"));
    fs::create_dir_all(&rel).expect("release dir");
    fs::write(rel.join(asset), binary).expect("asset");
    let other = "1".repeat(64);
    let linux = format!("imagepin-{TARGET}");
    let sums: String = [
        "imagepin-aarch64-apple-darwin",
        &linux,
        "imagepin-x86_64-pc-windows-msvc.exe",
    ]
    .iter()
    .map(|name| {
        let sha = if *name == asset { listed_sha } else { &other };
        format!("{sha}  {name}\n")
    })
    .collect();
    fs::write(rel.join("SHA256SUMS"), sums).expect("SHA256SUMS");
}

/// `bash script` with the given environment (and no GitHub runner variables).
fn install(script: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script).args(args);
    for var in [
        "IMAGEPIN_VERSION",
        "IMAGEPIN_TARGET",
        "IMAGEPIN_INSTALL_DIR",
        "IMAGEPIN_DOWNLOAD_BASE",
        "IMAGEPIN_REPOSITORY",
        "RUNNER_TOOL_CACHE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("bash runs")
}

/// `key=value` lines of the script's stdout.
fn field(out: &Output, key: &str) -> Option<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// Runs the install script with `env`: it must install `binary`, downloaded from the
/// release, as `bin`.
fn installs_from_the_release(env: &[(&str, &str)], bin: &Path, binary: &[u8]) {
    let out = install(&root().join("scripts/install"), env, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(field(&out, "source").as_deref(), Some("release"), "{err}");
    assert_eq!(field(&out, "bin").map(PathBuf::from).as_deref(), Some(bin));
    assert_eq!(fs::read(bin).expect("installed"), binary);
}

fn real_binary() -> Vec<u8> {
    fs::read(env!("CARGO_BIN_EXE_imagepin")).expect("the built imagepin")
}

#[test]
fn installs_the_release_binary_only_after_checking_its_sha256() {
    let t = tempfile::tempdir().expect("tempdir");
    let www = t.path().join("www");
    let binary = real_binary();
    let version = env!("CARGO_PKG_VERSION");
    release(&www, version, &binary, &sha256_hex(&binary));
    let server = FileServer::start(&www);
    let dir = t.path().join("tools/imagepin");
    let base = server.base(version);
    let dir_s = dir.to_str().expect("utf-8");

    // No version given: the one in Cargo.toml, as the action does at its own commit.
    let env = [
        ("IMAGEPIN_DOWNLOAD_BASE", base.as_str()),
        ("IMAGEPIN_INSTALL_DIR", dir_s),
        ("IMAGEPIN_TARGET", TARGET),
    ];
    let bin = dir.join("imagepin");
    installs_from_the_release(&env, &bin, &binary);
    let run = Command::new(&bin).arg("--version").output().expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("imagepin {version}")
    );
    assert_eq!(
        server.requests(),
        [
            format!("/v{version}/SHA256SUMS"),
            format!("/v{version}/imagepin-{TARGET}")
        ]
    );

    // A second run (a restored cache) checks the binary it has and downloads nothing else.
    let out = install(&root().join("scripts/install"), &env, &[]);
    assert!(out.status.success());
    assert_eq!(field(&out, "source").as_deref(), Some("cache"));
    assert_eq!(server.requests().len(), 3, "only SHA256SUMS again");

    // A cached binary that no longer matches (a poisoned cache) is replaced.
    let mut tampered = binary.clone();
    tampered.extend_from_slice(b"tampered");
    fs::write(&bin, &tampered).expect("tamper");
    let out = install(&root().join("scripts/install"), &env, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(field(&out, "source").as_deref(), Some("release"));
    assert_eq!(fs::read(&bin).expect("installed"), binary);
}

#[test]
fn a_checksum_mismatch_fails_and_installs_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    let www = t.path().join("www");
    let binary = real_binary();
    let mut listed = binary.clone();
    listed.push(b'\n');
    release(&www, "9.8.7", &binary, &sha256_hex(&listed));
    let server = FileServer::start(&www);
    let dir = t.path().join("tools/imagepin");
    let out = install(
        &root().join("scripts/install"),
        &[
            ("IMAGEPIN_VERSION", "v9.8.7"),
            ("IMAGEPIN_DOWNLOAD_BASE", &server.base("9.8.7")),
            ("IMAGEPIN_INSTALL_DIR", dir.to_str().expect("utf-8")),
            ("IMAGEPIN_TARGET", TARGET),
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        err.contains(&sha256_hex(&listed)),
        "names what was expected: {err}"
    );
    assert!(err.contains(&sha256_hex(&binary)), "and what came: {err}");
    assert_eq!(field(&out, "bin"), None);
    assert!(!dir.join("imagepin").exists(), "nothing installed");
    assert!(
        server
            .requests()
            .contains(&format!("/v9.8.7/imagepin-{TARGET}")),
        "the download itself was made and refused"
    );
}

/// A copy of scripts/install inside a tiny crate named imagepin, so the fallback's
/// `cargo install --locked --path` builds something small for real.
fn tiny_source_tree(dir: &Path, version: &str) -> PathBuf {
    fs::create_dir_all(dir.join("scripts")).expect("scripts");
    fs::create_dir_all(dir.join("src")).expect("src");
    let script = dir.join("scripts/install");
    fs::copy(root().join("scripts/install"), &script).expect("copy script");
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"imagepin\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[dependencies]\n"
        ),
    )
    .expect("Cargo.toml");
    fs::write(
        dir.join("Cargo.lock"),
        format!("version = 4\n\n[[package]]\nname = \"imagepin\"\nversion = \"{version}\"\n"),
    )
    .expect("Cargo.lock");
    fs::write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"built from source\"); }\n",
    )
    .expect("main.rs");
    script
}

/// Runs the script of a tiny source tree at `version` for `target`, against a server
/// holding its release (`released`) or nothing, and checks that it built from source.
/// Returns the script's output and the paths the server was asked for.
fn build_from_source(version: &str, target: &str, released: bool) -> (Output, Vec<String>) {
    let t = tempfile::tempdir().expect("tempdir");
    let www = t.path().join("www");
    fs::create_dir_all(&www).expect("www");
    if released {
        let binary = real_binary();
        release(&www, version, &binary, &sha256_hex(&binary));
    }
    let server = FileServer::start(&www);
    let script = tiny_source_tree(&t.path().join("src"), version);
    let dir = t.path().join("tools/imagepin");
    let target_dir = t.path().join("target");
    let out = install(
        &script,
        &[
            ("IMAGEPIN_DOWNLOAD_BASE", &server.base(version)),
            ("IMAGEPIN_INSTALL_DIR", dir.to_str().expect("utf-8")),
            ("IMAGEPIN_TARGET", target),
            ("CARGO_TARGET_DIR", target_dir.to_str().expect("utf-8")),
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("cargo install --locked"), "says why: {err}");
    assert_eq!(field(&out, "source").as_deref(), Some("cargo-install"));
    let bin = PathBuf::from(field(&out, "bin").expect("bin="));
    assert!(
        !bin.starts_with(&dir),
        "a build never lands where the cache stores verified binaries"
    );
    let run = Command::new(&bin).output().expect("runs");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "built from source\n");
    (out, server.requests())
}

#[test]
fn no_binary_for_the_platform_builds_from_source() {
    let (_, requests) = build_from_source("0.0.7", "riscv64gc-unknown-linux-musl", true);
    assert_eq!(requests, ["/v0.0.7/SHA256SUMS"]);
}

#[test]
fn an_unreleased_version_builds_from_source() {
    let (out, requests) = build_from_source("0.0.8", TARGET, false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no SHA256SUMS"), "{err}");
    assert_eq!(requests, ["/v0.0.8/SHA256SUMS"]);
}

#[test]
fn plan_names_version_target_and_cache_directory() {
    let out = install(
        &root().join("scripts/install"),
        &[
            ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache"),
            ("IMAGEPIN_TARGET", "aarch64-apple-darwin"),
        ],
        &["plan"],
    );
    assert!(out.status.success());
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(field(&out, "version").as_deref(), Some(version));
    assert_eq!(
        field(&out, "target").as_deref(),
        Some("aarch64-apple-darwin")
    );
    assert_eq!(
        field(&out, "dir"),
        Some(format!(
            "/opt/hostedtoolcache/imagepin/{version}/aarch64-apple-darwin"
        ))
    );
}

/// On a Windows runner (Git Bash, where `uname -s` says `MINGW64_NT-…`) the script
/// fetches the `.exe` asset and installs it as `imagepin.exe`, checked against
/// SHA256SUMS like any other. `uname` is a shell function here (through `BASH_ENV`).
#[test]
fn a_windows_runner_gets_the_exe_asset() {
    let t = tempfile::tempdir().expect("tempdir");
    let www = t.path().join("www");
    let asset = "imagepin-x86_64-pc-windows-msvc.exe";
    let binary = b"MZ: stands in for the Windows binary".to_vec();
    release_asset(&www, "1.2.3", asset, &binary, &sha256_hex(&binary));
    let server = FileServer::start(&www);
    let git_bash = t.path().join("git-bash.sh");
    fs::write(
        &git_bash,
        "uname() { case \"$1\" in -s) echo MINGW64_NT-10.0-26100 ;; -m) echo x86_64 ;; esac; }\n",
    )
    .expect("BASH_ENV file");
    let dir = t.path().join("tools/imagepin");
    let base = server.base("1.2.3");
    let env = [
        ("BASH_ENV", git_bash.to_str().expect("utf-8")),
        ("IMAGEPIN_VERSION", "1.2.3"),
        ("IMAGEPIN_DOWNLOAD_BASE", &base),
        ("IMAGEPIN_INSTALL_DIR", dir.to_str().expect("utf-8")),
    ];
    let plan = install(&root().join("scripts/install"), &env, &["plan"]);
    assert_eq!(
        field(&plan, "target").as_deref(),
        Some("x86_64-pc-windows-msvc")
    );
    installs_from_the_release(&env, &dir.join("imagepin.exe"), &binary);
    assert_eq!(
        server.requests(),
        ["/v1.2.3/SHA256SUMS".to_string(), format!("/v1.2.3/{asset}")]
    );
}

/// A Windows checkout may turn Cargo.toml's line ends into CRLF: the version is still
/// read without the CR.
#[test]
fn the_version_is_read_from_a_crlf_cargo_toml() {
    let t = tempfile::tempdir().expect("tempdir");
    let script = tiny_source_tree(t.path(), "3.4.5");
    let toml = fs::read_to_string(t.path().join("Cargo.toml")).expect("read");
    fs::write(t.path().join("Cargo.toml"), toml.replace('\n', "\r\n")).expect("write");
    let out = install(&script, &[("IMAGEPIN_TARGET", TARGET)], &["plan"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(field(&out, "version").as_deref(), Some("3.4.5"), "{err}");
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let out = install(
        &root().join("scripts/install"),
        &[
            ("IMAGEPIN_DOWNLOAD_BASE", "http://downloads.example/v1.0.0"),
            ("IMAGEPIN_TARGET", TARGET),
        ],
        &["plan"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be an https:// URL"), "{err}");
}
