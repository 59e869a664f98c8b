//! Running a program the way a pipeline (or Helm, or Argo CD) does: bytes on its
//! stdin from another thread while its stdout and stderr are read, so neither side
//! can block the other.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run `command` with `input` on its stdin; its output once it exits.
pub fn run_with_stdin(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // A program may exit without reading everything (a usage error): a closed pipe
    // is then not the test's failure.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer thread");
    out
}

/// `imagepin ARGS` in `dir`, `input` on stdin.
pub fn imagepin_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imagepin"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_CONFIG");
    run_with_stdin(command, input)
}
