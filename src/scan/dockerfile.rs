//! TEMPORARY stub.
use std::ops::Range;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Syntax,
    From,
    CopyFrom,
    MountFrom,
    ArgDefault,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileRef {
    pub span: Range<usize>,
    pub site: Site,
}
pub fn scan(src: &str) -> Vec<DockerfileRef> {
    let mut out = vec![];
    let mut off = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix("FROM ") {
            let s = off + 5;
            let w = rest.split_whitespace().next().unwrap_or("");
            out.push(DockerfileRef {
                span: s..s + w.len(),
                site: Site::From,
            });
        }
        off += line.len();
    }
    out
}
