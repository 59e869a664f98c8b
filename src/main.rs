//! The `imagepin` binary: parse arguments, run the command, turn the outcome into an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    imagepin::cli::main()
}
