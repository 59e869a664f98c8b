//! Jenkinsfile (stub).
use super::Candidate;
pub fn scan(_src: &str) -> Vec<Candidate> {
    Vec::new()
}
