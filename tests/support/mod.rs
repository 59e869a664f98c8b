//! Shared test support: a real registry on loopback.
#![allow(dead_code)]

pub mod faults;
pub mod git;
pub mod golden;
pub mod pipe;
pub mod registry;
pub mod sarif;
pub mod token;

/// A run's stderr, as text.
pub fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A run's stdout, as text.
pub fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
