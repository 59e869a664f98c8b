//! The fast YAML reader never disagrees with the complete (event parser) one: wherever
//! it accepts a text, both build the same tree. It may decline anything; it may not
//! read a text differently, nor accept one the complete reader refuses (except by its
//! one documented leniency, a flow collection closed at its block parent's column).
#![no_main]
use imagepin::yaml::{fast, full};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some((fast, lenient)) = fast::read_noting_leniency(text) {
        let full = full::read(text).ok().map(|t| t.render());
        if lenient && full.is_none() {
            return;
        }
        assert_eq!(Some(fast.render()), full, "readers disagree on {text:?}");
    }
});
