//! The one error type a command returns when it cannot produce its result: a usage or
//! configuration problem (exit 2) or output that could not be written. Problems with
//! single files or references are not errors: they are reported rows and an outcome.

use std::io;

/// Why a run ended before producing its result.
#[derive(Debug)]
pub enum RunError {
    /// Bad arguments or configuration: exit 2.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> Self {
        RunError::Io(e)
    }
}
