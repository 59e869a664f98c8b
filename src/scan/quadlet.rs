//! Podman Quadlet units (stub).
use super::Candidate;
pub fn scan(_src: &str) -> Result<Vec<Candidate>, (usize, String)> {
    Ok(Vec::new())
}
