//! Replays the regression corpus without instrumentation: every file under
//! `fuzz/corpus/<target>/` (the seeds, and each crash input once its bug is fixed) goes
//! through its target's harness in an ordinary test, so `cargo nextest` keeps fixed crashes
//! fixed. Every target must have a corpus, some of it must reach the success path (or the
//! harness would only be fuzzing error messages), and no folder may name an unknown target.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use mendian_fuzz::{Outcome, TARGETS};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_corpus_input_passes_its_target() {
    let mut failures = Vec::new();
    for (name, harness) in TARGETS {
        let inputs = files(&corpus_dir().join(name));
        assert!(!inputs.is_empty(), "fuzz/corpus/{name}/ has no inputs");
        let mut accepted = 0;
        for path in &inputs {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            match catch_unwind(AssertUnwindSafe(|| harness(&data))) {
                Ok(Outcome::Accepted) => accepted += 1,
                Ok(Outcome::Rejected) => {}
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{name}: {} panicked: {message}", path.display()));
                }
            }
        }
        assert!(accepted > 0, "no input in fuzz/corpus/{name}/ is accepted: the seeds never reach the success path");
    }
    assert!(failures.is_empty(), "corpus inputs fail:\n{}", failures.join("\n"));
}

#[test]
fn every_corpus_folder_is_a_target() {
    for entry in std::fs::read_dir(corpus_dir()).expect("fuzz/corpus exists").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            assert!(TARGETS.iter().any(|(t, _)| *t == name), "fuzz/corpus/{name}/ is not a fuzz target");
        }
    }
}
