//! The fast YAML reader never disagrees with the complete (tree-sitter) one: wherever
//! it accepts a text, both build the same tree. It may decline anything; it may not
//! read a text differently, nor accept one tree-sitter refuses.
#![no_main]
use imagepin::yaml::{fast, ts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(fast) = fast::read(text) {
        let full = ts::read(text).ok().map(|t| t.render());
        assert_eq!(Some(fast.render()), full, "readers disagree on {text:?}");
    }
});
