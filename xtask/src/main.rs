//! Project automation, run as `cargo xtask <command>`:
//!
//! - `codegen [--check]` — spec/ → crates/mendian/src/generated/ (or check it is fresh).
//! - `bindings [--check]` — build the core library and generate Kotlin, Swift and Python
//!   bindings from it; the Swift package sources are committed, `--check` verifies them.
//! - `test` — everything: codegen and bindings checks, the Rust workspace under nextest,
//!   the Python suite against a debug wheel, the importer end to end (a changed page through
//!   `import --write` and `codegen` into Python), then `package` and the Python suite against the
//!   packaged wheels, a wheel built from the sdist, and the Kotlin suite on the packaged
//!   jar. Missing tools are bootstrapped into a cache; a language is never silently skipped.
//! - `package` — every installable artefact into `dist/` (manylinux2014 wheels of the SDK
//!   and the emulator, the sdist, the JVM jar with its native library, sources and POM).
//! - `import <page> [--family F] [--write]` — compare a saved platform page (WeChat Pay, the
//!   门店小程序 document, a TOP API page or TOP metadata) with the spec and report every
//!   difference (0 agree, 1 drift, 2 unreadable page); `--write` applies it to `spec/`.
//! - `import-e2e` — the importer end to end on its own (part of `test`).
//! - `demo` — the end-to-end walkthrough against the bundled emulator.
//! - `bench` — client CPU per WeChat Pay request next to the raw crypto floor, 门店小程序
//!   calls per second against the emulator next to plain reqwest, the access-token read from
//!   Redis next to memory, and client CPU per call from Python next to plain reqwest and
//!   `requests`, and from Kotlin next to plain reqwest (release builds); `--python` and
//!   `--kotlin` run those parts alone.
//! - `fuzz [--seconds N]` — every fuzz target of `fuzz/` under AFL++ for N seconds each
//!   (`test` runs a short bounded pass).
//!
//! xtask itself depends only on the spec crate so it compiles in seconds; heavier work runs
//! as separate cargo invocations sharing one target directory.

mod codegen;
mod fuzz;
mod import;
mod import_e2e;
mod kotlin_passes;
mod package;
mod pyaccel;
mod pystub;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_path_buf()
}

fn usage() -> &'static str {
    "usage: cargo xtask <codegen [--check] | bindings [--check] | test | package | import <page> [--family F] [--write] | import-e2e | demo | bench [--python | --kotlin] | fuzz [--seconds N]>"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    let check = args.iter().any(|a| a == "--check");
    if args.first().map(String::as_str) == Some("import") {
        return import::run(&root, &args[1..]);
    }
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(&root, check),
        Some("bindings") => tools::bindings(&root, check).map(|_| ()),
        Some("test") => tools::test_all(&root),
        Some("demo") => tools::demo(&root),
        Some("package") => package::package(&root).map(|_| ()),
        Some("bench") => tools::bench(&root, args.get(1).map(|a| a.trim_start_matches('-'))),
        Some("fuzz") => fuzz::fuzz(&root, &args[1..]),
        Some("import-e2e") => import_e2e::run_flow(&root),
        _ => Err(usage().to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
