//! TEMPORARY stub, replaced by the real grammar.
use std::ops::Range;
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub name_end: usize,
    pub tag_span: Option<Range<usize>>,
    pub digest_span: Option<Range<usize>>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError(String);
impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ReferenceError {}
impl Reference {
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty()
            || text
                .chars()
                .any(|c| c.is_whitespace() || c.is_ascii_uppercase())
        {
            return Err(ReferenceError("invalid reference format".into()));
        }
        let (name_tag, digest_span) = match text.find('@') {
            Some(i) => (&text[..i], Some(i + 1..text.len())),
            None => (text, None),
        };
        let slash = name_tag.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name_end, tag_span) = match name_tag[slash..].find(':') {
            Some(i) => (slash + i, Some(slash + i + 1..name_tag.len())),
            None => (name_tag.len(), None),
        };
        let name = &text[..name_end];
        let (registry, repository) = match name.split_once('/') {
            Some((d, rest)) if d.contains('.') || d.contains(':') || d == "localhost" => {
                (d.to_string(), rest.to_string())
            }
            _ => (
                "docker.io".to_string(),
                if name.contains('/') {
                    name.to_string()
                } else {
                    format!("library/{name}")
                },
            ),
        };
        Ok(Reference {
            registry,
            repository,
            tag: tag_span.clone().map(|s| text[s].to_string()),
            digest: digest_span.clone().map(|s| text[s].to_string()),
            name_end,
            tag_span,
            digest_span,
        })
    }
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            _ => None,
        }
    }
}
