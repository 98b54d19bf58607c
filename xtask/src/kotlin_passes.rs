//! The passes `cargo xtask` runs over UniFFI's generated Kotlin (`bindings` and `package`), for
//! what UniFFI 0.32 offers no setting. Both are strict: they fail when the generated file no
//! longer has the shape they expect.
//!
//! - **Callback threads stay attached.** Every JNA callback object the bindings define (the
//!   continuation that resumes a suspend call, each callback-interface method, free and clone)
//!   gets an `init` that registers it with `uniffiKeepCallbackThreadAttached`
//!   (`bindings/kotlin/src/mendian/CallbackThreads.kt`). Without it JNA attaches the calling
//!   Rust thread to the JVM for each callback and detaches it afterwards, which the Kotlin
//!   bench measured as about half the CPU of a suspend call (540 → 270 µs per `getStoreList`).
//! - **Call statuses are pooled.** Every call into Rust allocated a fresh JNA
//!   `UniffiRustCallStatus` (two native allocations, each registered with JNA's cleaner); the
//!   one function that makes them now takes one from a per-thread pool and gives it back
//!   (`bindings/kotlin/src/mendian/CallStatusPool.kt`). A nested call on the same thread (a
//!   Kotlin callback that calls Rust) takes another one. A no-op exported call went from
//!   18–39 to 6–7 µs of JVM CPU.

use std::path::Path;

/// The interfaces whose objects are JNA callbacks Rust threads call.
const CALLBACK_INTERFACES: &[&str] = &["UniffiRustFutureContinuationCallback", "UniffiForeignFutureDroppedCallback", "UniffiCallbackInterface"];

/// How UniFFI's `uniffiRustCallWithError` makes its status, and what replaces it.
const STATUS_NEW: &str = "    var status = UniffiRustCallStatus()\n    val return_value = callback(status)\n    uniffiCheckCallStatus(errorHandler, status)\n    return return_value\n";
const STATUS_POOLED: &str = "    val status = uniffiTakeCallStatus()\n    try {\n        val return_value = callback(status)\n        uniffiCheckCallStatus(errorHandler, status)\n        return return_value\n    } finally {\n        uniffiGiveBackCallStatus(status)\n    }\n";

/// Applies both passes to `<dir>/mendian/mendian.kt`.
pub fn apply_passes(dir: &Path) -> Result<(), String> {
    let path = dir.join("mendian").join("mendian.kt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let shape = |what: String| format!("{}: {what}; did the UniFFI version change? See xtask/src/kotlin_passes.rs", path.display());
    let (out, count, continuation) = keep_attached(&text);
    if !continuation || count < 2 {
        return Err(shape(format!(
            "expected UniFFI's `internal object …: UniffiRustFutureContinuationCallback {{` and the callback-interface objects (found {count} callback objects)"
        )));
    }
    let out = pool_statuses(&out).ok_or_else(|| shape("expected exactly one `var status = UniffiRustCallStatus()` in uniffiRustCallWithError".into()))?;
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `text` with the call status taken from the pool; `None` unless UniFFI makes it in
/// exactly one place, the way this pass expects.
fn pool_statuses(text: &str) -> Option<String> {
    (text.matches(STATUS_NEW).count() == 1 && text.matches("= UniffiRustCallStatus()").count() == 1)
        .then(|| text.replace(STATUS_NEW, STATUS_POOLED))
}

/// `text` with the `init` line after each callback object's opening line; how many, and
/// whether the continuation callback was among them.
fn keep_attached(text: &str) -> (String, usize, bool) {
    let mut out = String::with_capacity(text.len() + 4096);
    let (mut count, mut continuation) = (0, false);
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        let Some(iface) = callback_object(line.trim_end()) else { continue };
        let indent = &line[..line.len() - line.trim_start().len()];
        out.push_str(indent);
        out.push_str("    init { uniffiKeepCallbackThreadAttached(this) }\n");
        count += 1;
        continuation |= iface == "UniffiRustFutureContinuationCallback";
    }
    (out, count, continuation)
}

/// The interface of `internal object <name>: <interface> {`, when it is a callback one.
fn callback_object(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("internal object ")?;
    let (_, iface) = rest.split_once(": ")?;
    let iface = iface.strip_suffix(" {")?;
    let known = CALLBACK_INTERFACES.iter().any(|c| iface == *c || (c.ends_with("Interface") && iface.starts_with(c)));
    (known && iface.chars().all(|c| c.is_ascii_alphanumeric())).then_some(iface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_object_is_registered_and_nothing_else_changes() {
        let text = "internal object uniffiRustFutureContinuationCallbackImpl: UniffiRustFutureContinuationCallback {\n    override fun callback(data: Long, pollResult: Byte) {}\n}\ninternal object uniffiCallbackInterfaceMendianLogger {\n    internal object `log`: UniffiCallbackInterfaceMendianLoggerMethod0 {\n    }\n    internal object uniffiFree: UniffiCallbackInterfaceFree {\n    }\n}\ninternal object FfiConverterString: FfiConverter<String, RustBuffer.ByValue> {\n}\n";
        let (out, count, continuation) = keep_attached(text);
        assert_eq!((count, continuation), (3, true));
        assert!(out.contains("UniffiRustFutureContinuationCallback {\n    init { uniffiKeepCallbackThreadAttached(this) }\n"), "{out}");
        assert!(out.contains("UniffiCallbackInterfaceMendianLoggerMethod0 {\n        init { uniffiKeepCallbackThreadAttached(this) }\n"), "{out}");
        assert!(out.contains("FfiConverter<String, RustBuffer.ByValue> {\n}"), "converters are not callbacks: {out}");
        assert_eq!(out.lines().count(), text.lines().count() + 3);
    }

    #[test]
    fn the_one_status_allocation_comes_from_the_pool() {
        let text = format!("private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: H<E>, callback: (UniffiRustCallStatus) -> U): U {{\n{STATUS_NEW}}}\n");
        let out = pool_statuses(&text).expect("the expected shape");
        assert!(out.contains("val status = uniffiTakeCallStatus()") && out.contains("uniffiGiveBackCallStatus(status)"), "{out}");
        assert!(!out.contains("= UniffiRustCallStatus()"), "{out}");
        // A second allocation somewhere else, or none: refused, not half-applied.
        assert_eq!(pool_statuses(&format!("{text}val other = UniffiRustCallStatus()\n")), None);
        assert_eq!(pool_statuses("fun f() {}\n"), None);
    }
}
