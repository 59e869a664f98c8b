//! HCL (stub).
use super::Candidate;
use super::detect::HclDialect;
use std::path::Path;
pub fn scan(_src: &str, _path: &Path, _d: HclDialect) -> Result<Vec<Candidate>, (usize, String)> {
    Ok(Vec::new())
}
pub fn scan_json(
    _src: &str,
    _path: &Path,
    _d: HclDialect,
) -> Result<Vec<Candidate>, (usize, String)> {
    Ok(Vec::new())
}
