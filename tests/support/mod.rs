//! Shared test support: a real registry on loopback.
#![allow(dead_code)]

pub mod faults;
pub mod git;
pub mod golden;
pub mod pipe;
pub mod registry;
pub mod sarif;
pub mod token;
