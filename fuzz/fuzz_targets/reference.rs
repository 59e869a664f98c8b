//! The reference parser never panics, and its spans always point into the text.
#![no_main]
use imagepin::reference::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(r) = Reference::parse(text) {
        assert!(r.name_end <= text.len());
        if let Some(t) = r.tag_span {
            assert_eq!(Some(&text[t]), r.tag.as_deref());
        }
        if let Some(d) = r.digest_span {
            assert_eq!(Some(&text[d]), r.digest.as_deref());
        }
    }
});
