//! The commands: each plans its work over scanned findings and drives the stages.

pub mod check;
pub mod fix;

/// How a command ended, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Findings (`check`) or failures (`fix`): exit 1.
    Problems,
}
