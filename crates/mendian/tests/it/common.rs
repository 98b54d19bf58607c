//! Helpers shared by the integration tests: where the known-answer vectors live, and the
//! emulator's test credentials (imported from the emulator, never copied).

use std::path::PathBuf;

pub use mendian_emulator::credentials;

/// `tests/vectors/` at the workspace root.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// The text of a file under `tests/vectors/`.
pub fn vector_text(rel: &str) -> String {
    let path = vectors_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
