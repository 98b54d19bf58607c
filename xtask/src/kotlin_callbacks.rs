//! One pass over UniFFI's generated Kotlin: every JNA callback object it defines (the
//! continuation that resumes a suspend call, each callback-interface method, free and clone)
//! gets an `init` that registers it with `uniffiKeepCallbackThreadAttached`
//! (`bindings/kotlin/src/mendian/CallbackThreads.kt`).
//!
//! Without it JNA attaches the calling Rust thread to the JVM for each callback and detaches
//! it afterwards, which the Kotlin bench measured as about half the CPU of a suspend call
//! (540 → 270 µs per `getStoreList`). UniFFI offers no setting for it, so the pass is strict:
//! it fails when the generated file no longer has the shape it expects.

use std::path::Path;

/// The interfaces whose objects are JNA callbacks Rust threads call.
const CALLBACK_INTERFACES: &[&str] = &["UniffiRustFutureContinuationCallback", "UniffiForeignFutureDroppedCallback", "UniffiCallbackInterface"];

/// Applies the pass to `<dir>/mendian/mendian.kt`.
pub fn keep_callback_threads_attached(dir: &Path) -> Result<(), String> {
    let path = dir.join("mendian").join("mendian.kt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (out, count, continuation) = apply(&text);
    if !continuation || count < 2 {
        return Err(format!(
            "{}: expected UniFFI's `internal object …: UniffiRustFutureContinuationCallback {{` and the callback-interface objects \
             (found {count} callback objects); did the UniFFI version change? See xtask/src/kotlin_callbacks.rs",
            path.display()
        ));
    }
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `text` with the `init` line after each callback object's opening line; how many, and
/// whether the continuation callback was among them.
fn apply(text: &str) -> (String, usize, bool) {
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
        let (out, count, continuation) = apply(text);
        assert_eq!((count, continuation), (3, true));
        assert!(out.contains("UniffiRustFutureContinuationCallback {\n    init { uniffiKeepCallbackThreadAttached(this) }\n"), "{out}");
        assert!(out.contains("UniffiCallbackInterfaceMendianLoggerMethod0 {\n        init { uniffiKeepCallbackThreadAttached(this) }\n"), "{out}");
        assert!(out.contains("FfiConverter<String, RustBuffer.ByValue> {\n}"), "converters are not callbacks: {out}");
        assert_eq!(out.lines().count(), text.lines().count() + 3);
    }
}
