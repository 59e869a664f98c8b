//! The command line: arguments are parsed and validated here, once, into the settings
//! each command takes; the outcome becomes an exit code (0 clean, 1 findings or
//! failures, 2 usage or configuration errors).

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::apply::Mode;
use crate::changed::ChangedFiles;
use crate::commands::{self, Input, Outcome};
use crate::config::{self, ConfigFile, RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::lock::Lock;
use crate::registry::platform::Platform;
use crate::report::{self, OutputFormat};
use crate::stdin::{self, StdinFormat, Stream};

#[derive(Debug, Parser)]
#[command(
    name = "imagepin",
    version,
    about = "Pin container image references to the digests their tags point to now.",
    long_about = None,
    // imagepin prints no colour codes (so NO_COLOR holds by construction), help and usage
    // errors included: clap is built without its "color" feature (Cargo.toml).
)]
pub struct Cli {
    /// Only results and errors: no warnings, summaries or progress bar.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Log registry requests to stderr (-v: answers, -vv: every request; credentials
    /// are always redacted).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List image references and their state, offline; exit 1 if any is unpinned.
    Check(CheckArgs),
    /// Resolve unpinned references and pin them in place as name:tag@sha256:….
    Fix(FixArgs),
    /// Move name:tag@digest pins whose tag now points elsewhere; optionally commit.
    Update(UpdateArgs),
    /// Prove every pinned digest still exists in its registry (and, with --strict,
    /// that its tag still points to it).
    Verify(VerifyArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) on stdout, or with --dir write every page: imagepin.1
    /// and one per command (imagepin-check.1, imagepin-fix.1, …).
    Man {
        /// Write imagepin.1 and a page per command into this existing directory (e.g.
        /// /usr/local/share/man/man1) instead of printing imagepin.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Files or directories to scan [default: .]; `-` (or /dev/stdin) alone reads a
    /// stream from stdin.
    paths: Vec<PathBuf>,
    /// Config file [default: the nearest .imagepin.yaml from the scanned paths up to
    /// the repository root]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With `-`: what the stream is [default: yaml, which covers Kubernetes and compose;
    /// dockerfile for text that starts like a Dockerfile]. For any other kind of file,
    /// --stdin-filename NAME reads the stream as a file of that name.
    #[arg(long, value_enum, value_name = "FORMAT")]
    stdin_format: Option<StdinFormat>,
    /// With `-`: read the stream as if it were a file of this name, and name it so in
    /// messages.
    #[arg(long, value_name = "NAME", conflicts_with = "stdin_format")]
    stdin_filename: Option<PathBuf>,
    /// Only files changed since this git ref (`git diff --name-only REF`) and
    /// untracked files git does not ignore.
    #[arg(long, value_name = "REF")]
    changed_since: Option<String>,
}

impl ScanArgs {
    /// What to read (paths or stdin), the config and the scan settings it gives.
    fn load(&self) -> Result<(Input, Loaded, ScanSettings), RunError> {
        let input = self.input()?;
        // Stdin is read as a file in the current directory.
        let roots = match &input {
            Input::Paths(roots) => roots.clone(),
            Input::Stdin(_) => vec![PathBuf::from(".")],
        };
        let (file, dir) = config::load(self.config.as_deref(), &roots).map_err(RunError::Usage)?;
        let mut scan = file.scan_settings(&dir).map_err(RunError::Usage)?;
        if self.config.is_none()
            && let Input::Paths(roots) = &input
        {
            scan.found_config = Some(roots.first().and_then(|r| config::discover(r)));
        }
        if let Some(reference) = &self.changed_since {
            if input.is_stdin() {
                return Err(RunError::Usage(
                    "--changed-since selects files; `-` (stdin) has none".into(),
                ));
            }
            let changed = ChangedFiles::since(reference, &roots).map_err(RunError::Usage)?;
            scan.changed = Some(std::sync::Arc::new(changed));
        }
        Ok((input, Loaded { file, dir }, scan))
    }

    /// `-` (or `/dev/stdin`) alone is the stream on stdin; otherwise the paths to walk.
    fn input(&self) -> Result<Input, RunError> {
        if !self.paths.iter().any(|p| stdin::names_stdin(p)) {
            if self.stdin_format.is_some() || self.stdin_filename.is_some() {
                return Err(RunError::Usage(
                    "--stdin-format and --stdin-filename apply to `-` (stdin) only".into(),
                ));
            }
            return Ok(Input::Paths(roots(&self.paths)?));
        }
        if !self.paths.iter().all(|p| stdin::names_stdin(p)) {
            return Err(RunError::Usage(
                "`-` (or /dev/stdin) reads stdin and cannot be combined with other paths".into(),
            ));
        }
        Ok(Input::Stdin(Stream::new(
            self.stdin_format,
            self.stdin_filename.clone(),
        )))
    }
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// How to print findings.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// Fail (exit 1) when any file or YAML document could not be read.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
struct FixArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Print a unified diff of the changes; write nothing.
    #[arg(long)]
    diff: bool,
    /// Report what would be pinned; write nothing.
    #[arg(long, conflicts_with = "diff")]
    dry_run: bool,
    /// How to print results.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// Pin multi-arch tags to this platform's manifest (os/arch[/variant]) instead of
    /// the index. The pin is then no longer multi-arch.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// With `-`: write the stream with what could be pinned even when a reference
    /// could not be (exit 1 all the same). Without it, nothing is written then.
    #[arg(long)]
    keep_going: bool,
    /// Record the resolutions used (reference as written → digest, registry, time) in
    /// FILE, as JSON.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Pin from the resolutions recorded in FILE (by --lock), offline: a reference it
    /// does not hold fails.
    #[arg(long, value_name = "FILE", conflicts_with = "lock")]
    from_lock: Option<PathBuf>,
    /// Fail (exit 1) when any file or YAML document could not be read.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Print a unified diff of the changes; write nothing.
    #[arg(long)]
    diff: bool,
    /// Report what would change; write nothing.
    #[arg(long, conflicts_with = "diff")]
    dry_run: bool,
    /// Make one git commit of exactly the changed files (nothing changed: no commit).
    #[arg(long, conflicts_with_all = ["diff", "dry_run"])]
    commit: bool,
    /// Write the commit message to FILE instead of committing (for CI that commits).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["diff", "dry_run"])]
    message_file: Option<PathBuf>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// With `-`: write the stream with what could be updated even when a pin could
    /// not be (exit 1 all the same). Without it, nothing is written then.
    #[arg(long)]
    keep_going: bool,
    /// Re-pin pins whose digest no longer exists to this platform's manifest of their
    /// tag (os/arch[/variant]) instead of its index, and fetch each tag's manifest at
    /// once (for pins made with `fix --platform`). Other pins keep their own platform.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Fail (exit 1) when any file or YAML document could not be read.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Also fail when a pin's tag no longer points to the pinned digest (drift), or
    /// when any file or YAML document could not be read.
    #[arg(long)]
    strict: bool,
    /// How to print results.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// The pins are this platform's (made with `fix --platform`): each tag's index is
    /// fetched at once — one GET a tag, which Docker Hub counts as a pull — instead of
    /// a HEAD first, which answers at once only for pins of the tag's own manifest.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, Args)]
struct RegistryArgs {
    /// Query URL instead of REGISTRY (repeatable), e.g. docker.io=http://127.0.0.1:5000.
    /// A path in the URL is put in front of every repository. Pinned text keeps the
    /// original registry name.
    #[arg(long = "mirror", value_name = "REGISTRY=URL")]
    mirrors: Vec<String>,
    /// Registry lookups in flight at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    concurrency: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
}

/// The config file and the directory its paths are relative to.
struct Loaded {
    file: ConfigFile,
    dir: PathBuf,
}

impl RegistryArgs {
    fn settings(&self, loaded: &Loaded) -> Result<RegistrySettings, RunError> {
        loaded
            .file
            .registry_settings(&loaded.dir, &self.mirrors, self.concurrency, self.timeout)
            .map_err(RunError::Usage)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    report::set_quiet(cli.quiet);
    crate::rewrite::exit_cleanly_on_interrupt();
    if cli.verbose > 0 {
        let level = if cli.verbose > 1 {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        };
        // Only imagepin's own events: library logs could carry more than we vouch for.
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let only_ours = tracing_subscriber::filter::Targets::new().with_target("imagepin", level);
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(io::stderr)
            .with_ansi(false)
            .with_target(false);
        tracing_subscriber::registry()
            .with(fmt)
            .with(only_ours)
            .init();
    }
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(RunError::Usage(message)) => {
            report::error(&message);
            ExitCode::from(2)
        }
        // Output closed early (`imagepin check | head`): not an error.
        Err(RunError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(RunError::Io(e)) => {
            report::error(&format!("cannot write output: {e}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome, RunError> {
    match cli.command {
        Command::Check(args) => {
            // Offline; a config that `fix` would refuse was refused when it was read.
            let (input, _, scan) = args.scan.load()?;
            commands::check::run(&input, &scan, args.format, args.strict)
        }
        Command::Fix(args) => {
            no_diff_with_machine_format(args.diff, args.format)?;
            let (input, file, scan) = args.scan.load()?;
            keep_going_needs_stdin(args.keep_going, &input)?;
            let settings = args.registry.settings(&file)?;
            let platform = platform(args.platform.as_deref())?;
            let from_lock = args
                .from_lock
                .as_deref()
                .map(Lock::load)
                .transpose()
                .map_err(RunError::Usage)?;
            let opts = commands::fix::Options {
                mode: mode(args.diff, args.dry_run),
                format: args.format,
                platform: platform.as_ref(),
                from_lock: from_lock.as_ref(),
                lock: args.lock.as_deref(),
                keep_going: args.keep_going,
                strict: args.strict,
            };
            commands::fix::run(&input, &scan, &settings, &opts)
        }
        Command::Update(args) => {
            no_diff_with_machine_format(args.diff, args.format)?;
            let (input, file, scan) = args.scan.load()?;
            keep_going_needs_stdin(args.keep_going, &input)?;
            if input.is_stdin() && (args.commit || args.message_file.is_some()) {
                return Err(RunError::Usage(
                    "--commit and --message-file record files in git; `-` (stdin) has none".into(),
                ));
            }
            let settings = args.registry.settings(&file)?;
            let recording = commands::update::Recording {
                commit: args.commit,
                message_file: args.message_file,
            };
            let platform = platform(args.platform.as_deref())?;
            let mode = mode(args.diff, args.dry_run);
            commands::update::run(
                &input,
                &scan,
                mode,
                args.format,
                &settings,
                &recording,
                args.keep_going,
                platform.as_ref(),
                args.strict,
            )
        }
        Command::Verify(args) => {
            let (input, file, scan) = args.scan.load()?;
            let settings = args.registry.settings(&file)?;
            let platform = platform(args.platform.as_deref())?;
            commands::verify::run(
                &input,
                &scan,
                args.strict,
                args.format,
                &settings,
                platform.as_ref(),
            )
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "imagepin", &mut io::stdout().lock());
            Ok(Outcome::Clean)
        }
        Command::Man { dir } => {
            // The pages name each other (imagepin-check(1) …); `help` has no page.
            let cmd = Cli::command().disable_help_subcommand(true);
            match dir {
                None => clap_mangen::Man::new(cmd).render(&mut io::stdout().lock())?,
                Some(dir) => {
                    if !dir.is_dir() {
                        return Err(RunError::Usage(format!(
                            "man --dir {}: not an existing directory",
                            dir.display()
                        )));
                    }
                    let pages = 1 + cmd.get_subcommands().count();
                    clap_mangen::generate_to(cmd, &dir).map_err(|e| {
                        RunError::Usage(format!("man --dir {}: {e}", dir.display()))
                    })?;
                    report::summary(&format!(
                        "wrote {} to {}",
                        report::plural(pages, "man page"),
                        dir.display()
                    ));
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// `--platform OS/ARCH[/VARIANT]`, checked.
fn platform(text: Option<&str>) -> Result<Option<Platform>, RunError> {
    text.map(Platform::parse)
        .transpose()
        .map_err(RunError::Usage)
}

/// A diff is text: it cannot share stdout with JSON, SARIF or annotations.
fn no_diff_with_machine_format(diff: bool, format: OutputFormat) -> Result<(), RunError> {
    if diff && format != OutputFormat::Text {
        return Err(RunError::Usage(
            "--diff prints a unified diff; use --dry-run with --format json/sarif/github".into(),
        ));
    }
    Ok(())
}

/// `--keep-going` decides what reaches stdout in stdin mode; files are always written
/// with what could be done.
fn keep_going_needs_stdin(keep_going: bool, input: &Input) -> Result<(), RunError> {
    if keep_going && !input.is_stdin() {
        return Err(RunError::Usage(
            "--keep-going applies to `-` (stdin); with files, what can be pinned always is".into(),
        ));
    }
    Ok(())
}

fn mode(diff: bool, dry_run: bool) -> Mode {
    if diff {
        Mode::Diff
    } else if dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    }
}

/// The paths to scan (`.` by default); each must be a file or a directory (through
/// symbolic links). A FIFO, a device or a socket, a link loop or a dangling link is a
/// usage error naming the path and what it is.
fn roots(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RunError> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        check_root(p).map_err(|why| RunError::Usage(format!("{}: {why}", p.display())))?;
    }
    Ok(paths)
}

fn check_root(p: &Path) -> Result<(), String> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if e.raw_os_error() == Some(LINK_LOOP) => {
            return Err("symbolic link loop (too many levels of symbolic links)".into());
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(if std::fs::symlink_metadata(p).is_ok() {
                "dangling symbolic link (what it points to does not exist)".into()
            } else if p.as_os_str() == "-" {
                "no such file or directory (reading standard input is not supported)".into()
            } else {
                "no such file or directory".into()
            });
        }
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        return Ok(());
    }
    Err(format!(
        "is {}; imagepin scans regular files and directories",
        special_kind(t)
    ))
}

/// The OS error for a symbolic link loop (`io::ErrorKind::FilesystemLoop` is not stable
/// yet): ELOOP on Unix, ERROR_CANT_RESOLVE_FILENAME on Windows.
const LINK_LOOP: i32 = if cfg!(windows) {
    1921
} else if cfg!(target_os = "linux") {
    40
} else {
    62
};

/// What a path that is neither a file nor a directory is.
#[cfg(unix)]
fn special_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// What a path that is neither a file nor a directory is (Windows tells no more).
#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_and_errors_are_never_coloured() {
        assert_eq!(Cli::command().get_color(), clap::ColorChoice::Never);
    }
}
