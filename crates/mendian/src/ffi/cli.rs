//! Exports the `mendian` command line ([`crate::cli`]) so the Python wheel's `mendian` console
//! script runs the same program as the Rust binary. Only in builds with the `cli` feature
//! (the Python wheel, the JVM library); mobile builds leave it out.

/// Runs the `mendian` command line with `args` (without the program's name) in this process:
/// results on standard output, progress and errors on standard error. Returns the exit code
/// (0 done, 1 refused, 2 usage, 3 the platform or network failed). Blocks while it works; do
/// not call it from inside an event loop's thread.
#[uniffi::export]
pub fn mendian_cli(args: Vec<String>) -> i32 {
    crate::cli::run(&args)
}
