//! The YAML layer: every reading of YAML in imagepin goes through here, and what it
//! guarantees is what the format rules rely on.
//!
//! - **Exact spans.** Every node of the document model ([`tree`]) carries the byte
//!   range it is written at in the file, LF or CRLF, so an edit touches only those
//!   bytes. No serde round-trip ever produces text that is written back.
//! - **Never a guess.** A text is read by a reader that knows YAML's syntax or not at
//!   all: the fast reader ([`fast`]) takes the block YAML nearly every manifest is
//!   written in and declines anything else; the complete reader ([`ts`]) takes the rest.
//!   What neither can read is refused with the line where reading stopped, so the
//!   caller can say so.
//!
//! Both readers build the same [`tree::Tree`]; tests hold them to identical trees over
//! the corpus and over generated and mutated YAML.

pub mod fast;
pub mod tree;
pub mod ts;

use tree::Tree;

pub use ts::MAX_DEPTH;

/// Why a text could not be read as YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlError {
    /// Not YAML (or not YAML that can be read with exact spans): the 1-based line of
    /// the first syntax error.
    Syntax { line: usize },
    /// Nested deeper than [`MAX_DEPTH`], starting at this line.
    TooDeep { line: usize },
    /// The parser gave up (a time or size limit).
    GaveUp,
}

impl YamlError {
    /// The 1-based line the error points to.
    pub fn line(&self) -> usize {
        match self {
            YamlError::Syntax { line } | YamlError::TooDeep { line } => *line,
            YamlError::GaveUp => 1,
        }
    }
}

/// Read `src` and hand each document's tree to `each`, in order. The fast reader
/// goes document by document (memory follows the largest document); when it
/// declines, the complete reader reads the whole text and `each` sees its tree once.
/// A caller that collects results from `each` must discard what it collected if the
/// fast reader declined part-way: [`read_each`] reports that by calling `restart`.
pub fn read_each(
    src: &str,
    restart: &mut dyn FnMut(),
    each: &mut dyn FnMut(&Tree),
) -> Result<(), YamlError> {
    if fast::read_each(src, each).is_some() {
        return Ok(());
    }
    restart();
    match ts::read(src) {
        Ok(tree) => {
            each(&tree);
            Ok(())
        }
        Err(ts::Refusal::Syntax(line)) => Err(YamlError::Syntax { line }),
        Err(ts::Refusal::TooDeep(line)) => Err(YamlError::TooDeep { line }),
        Err(ts::Refusal::GaveUp) => Err(YamlError::GaveUp),
    }
}
