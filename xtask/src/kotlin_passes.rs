//! The passes `cargo xtask` runs over UniFFI's generated Kotlin (`bindings` and `package`), for
//! what UniFFI 0.32 offers no setting. All are strict: they fail when the generated file no
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
//! - **Structures without JNA's per-structure memory and reflection.** `RustBuffer` takes its
//!   native memory from a per-thread ring of slots and, like `UniffiRustCallStatus`, reads and
//!   writes its fields directly (`bindings/kotlin/src/mendian/StructMemory.kt`, which says why
//!   that is safe). JNA gave each structure its own `Memory` (twice for one returned by value)
//!   and copied fields by reflection; the collector then traced every cleaner reference.
//!   A no-op call went from 5–11 to 2–3 µs, young collections from 140–180 ms to 1 ms.
//! - **Suspend calls ask for `runMendianLoop`'s thread.** UniFFI's `uniffiRustCallAsync`, which
//!   every suspend call goes through, first calls `uniffiRunNextCallOnThreadLoop()`
//!   (`bindings/kotlin/src/mendian/MendianLoop.kt`): a call made from a coroutine of a
//!   `runMendianLoop` then runs on the loop's own thread, while the loop waits in mendian.

use std::path::Path;

/// The interfaces whose objects are JNA callbacks Rust threads call.
const CALLBACK_INTERFACES: &[&str] = &["UniffiRustFutureContinuationCallback", "UniffiForeignFutureDroppedCallback", "UniffiCallbackInterface"];

/// How UniFFI's `uniffiRustCallWithError` makes its status, and what replaces it.
const STATUS_NEW: &str = "    var status = UniffiRustCallStatus()\n    val return_value = callback(status)\n    uniffiCheckCallStatus(errorHandler, status)\n    return return_value\n";
const STATUS_POOLED: &str = "    val status = uniffiTakeCallStatus()\n    try {\n        val return_value = callback(status)\n        uniffiCheckCallStatus(errorHandler, status)\n        return return_value\n    } finally {\n        uniffiGiveBackCallStatus(status)\n    }\n";

/// The head of UniFFI's `uniffiRustCallAsync`, and the line added after it (before the first
/// poll, which is where the exported async method starts its call).
const ASYNC_CALL_HEAD: &str = "internal suspend fun<T, F, E: kotlin.Exception> uniffiRustCallAsync(\n    rustFuture: Long,\n    pollFunc: (Long, UniffiRustFutureContinuationCallback, Long) -> Unit,\n    completeFunc: (Long, UniffiRustCallStatus) -> F,\n    freeFunc: (Long) -> Unit,\n    liftFunc: (F) -> T,\n    errorHandler: UniffiRustCallStatusErrorHandler<E>\n): T {\n";
const ASYNC_CALL_LOOP: &str = "    // Added by cargo xtask (xtask/src/kotlin_passes.rs): see MendianLoop.kt.\n    uniffiRunNextCallOnThreadLoop()\n";

/// Applies the passes to `<dir>/mendian/mendian.kt`.
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
    let out = direct_structs(&out).ok_or_else(|| {
        shape("expected UniFFI's `RustBuffer` (capacity, len, data) and `UniffiRustCallStatus` (code, error_buf) structures, each once".into())
    })?;
    let out = loop_calls(&out).ok_or_else(|| shape("expected UniFFI's `uniffiRustCallAsync` exactly once, with its usual parameters".into()))?;
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `text` with every suspend call asking first for `runMendianLoop`'s thread; `None` unless
/// `uniffiRustCallAsync` appears once, with the parameters this pass expects.
fn loop_calls(text: &str) -> Option<String> {
    insert_after_shape(text, &[ASYNC_CALL_HEAD], ASYNC_CALL_LOOP)
}

/// `text` with the call status taken from the pool; `None` unless UniFFI makes it in
/// exactly one place, the way this pass expects.
fn pool_statuses(text: &str) -> Option<String> {
    (text.matches(STATUS_NEW).count() == 1 && text.matches("= UniffiRustCallStatus()").count() == 1)
        .then(|| text.replace(STATUS_NEW, STATUS_POOLED))
}

/// What `RustBuffer` must declare, in this order, for [`RUST_BUFFER_DIRECT`] to be right.
const RUST_BUFFER_SHAPE: &[&str] = &[
    "@Structure.FieldOrder(\"capacity\", \"len\", \"data\")\nopen class RustBuffer : Structure() {\n",
    "    @JvmField var capacity: Long = 0\n    @JvmField var len: Long = 0\n    @JvmField var data: Pointer? = null\n",
    "    class ByValue: RustBuffer(), Structure.ByValue\n    class ByReference: RustBuffer(), Structure.ByReference\n",
];
const RUST_BUFFER_DIRECT: &str = "\n    // Added by cargo xtask (xtask/src/kotlin_passes.rs): see StructMemory.kt.\n    override fun autoAllocate(size: Int): com.sun.jna.Memory = uniffiStructMemory(size)\n    override fun read() = uniffiReadRustBuffer(this, pointer, 0)\n    override fun write() = uniffiWriteRustBuffer(this, pointer, 0)\n";

/// What `UniffiRustCallStatus` must declare, in this order, for [`CALL_STATUS_DIRECT`].
const CALL_STATUS_SHAPE: &[&str] = &[
    "@Structure.FieldOrder(\"code\", \"error_buf\")\ninternal open class UniffiRustCallStatus : Structure() {\n",
    "    @JvmField var code: Byte = 0\n    @JvmField var error_buf: RustBuffer.ByValue = RustBuffer.ByValue()\n",
    "    class ByValue: UniffiRustCallStatus(), Structure.ByValue\n",
];
const CALL_STATUS_DIRECT: &str = "\n    // Added by cargo xtask (xtask/src/kotlin_passes.rs): see StructMemory.kt.\n    override fun read() {\n        val p = pointer\n        code = p.getByte(0)\n        uniffiReadRustBuffer(error_buf, p, uniffiErrorBufOffset { fieldOffset(\"error_buf\") })\n    }\n    override fun write() {\n        val p = pointer\n        p.setByte(0, code)\n        uniffiWriteRustBuffer(error_buf, p, uniffiErrorBufOffset { fieldOffset(\"error_buf\") })\n    }\n";

/// `text` with the direct field copies (and, for `RustBuffer`, the slot memory) after each
/// structure's last nested class; `None` unless both structures appear once, as expected.
fn direct_structs(text: &str) -> Option<String> {
    let text = insert_after_shape(text, RUST_BUFFER_SHAPE, RUST_BUFFER_DIRECT)?;
    insert_after_shape(&text, CALL_STATUS_SHAPE, CALL_STATUS_DIRECT)
}

/// `text` with `insert` after the last of `shape`'s parts, which must each appear exactly once,
/// in order, with nothing but blank and comment lines between one part and the next. (A field
/// added anywhere else in the class would also have to be in `@Structure.FieldOrder`, which
/// the first part matches exactly.)
fn insert_after_shape(text: &str, shape: &[&str], insert: &str) -> Option<String> {
    let mut at = 0;
    for (i, part) in shape.iter().enumerate() {
        if text.matches(part).count() != 1 {
            return None;
        }
        let found = text.find(part)?;
        if found < at || (i > 0 && text[at..found].lines().any(|l| !(l.trim().is_empty() || l.trim_start().starts_with("//")))) {
            return None;
        }
        at = found + part.len();
    }
    Some(format!("{}{insert}{}", &text[..at], &text[at..]))
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
    fn both_structures_copy_their_fields_directly_and_a_changed_shape_is_refused() {
        let text = format!(
            "{}    // Note: a comment UniFFI keeps here.\n{}\n{}\n    internal fun setValue(other: RustBuffer) {{}}\n}}\n\n{}{}\n{}\n    fun isSuccess(): Boolean = true\n}}\n",
            RUST_BUFFER_SHAPE[0], RUST_BUFFER_SHAPE[1], RUST_BUFFER_SHAPE[2], CALL_STATUS_SHAPE[0], CALL_STATUS_SHAPE[1], CALL_STATUS_SHAPE[2]
        );
        let out = direct_structs(&text).expect("the expected shape");
        assert!(out.contains("Structure.ByReference\n\n    // Added by cargo xtask"), "{out}");
        assert!(out.contains("override fun autoAllocate(size: Int): com.sun.jna.Memory = uniffiStructMemory(size)"), "{out}");
        assert_eq!(out.matches("override fun read()").count(), 2, "{out}");
        assert!(out.find("uniffiErrorBufOffset").unwrap() > out.find("class UniffiRustCallStatus").unwrap(), "{out}");
        // A field added, reordered or retyped: refused, not half-applied.
        assert_eq!(direct_structs(&text.replace("var len: Long = 0\n", "var len: Long = 0\n    @JvmField var extra: Long = 0\n")), None);
        assert_eq!(direct_structs(&text.replace("\"code\", \"error_buf\"", "\"error_buf\", \"code\"")), None);
        assert_eq!(direct_structs(&text.replace("var code: Byte", "var code: Int")), None);
        assert_eq!(direct_structs(&format!("{text}{}", RUST_BUFFER_SHAPE[2])), None);
    }

    #[test]
    fn every_suspend_call_asks_for_the_loop_thread_once() {
        let text = format!("{ASYNC_CALL_HEAD}    try {{\n    }} finally {{}}\n}}\n");
        let out = loop_calls(&text).expect("the expected shape");
        assert!(out.contains("): T {\n    // Added by cargo xtask (xtask/src/kotlin_passes.rs): see MendianLoop.kt.\n    uniffiRunNextCallOnThreadLoop()\n    try {"), "{out}");
        // Another signature, or two definitions: refused, not half-applied.
        assert_eq!(loop_calls(&text.replace("rustFuture: Long", "rustFuture: Pointer")), None);
        assert_eq!(loop_calls(&format!("{text}{text}")), None);
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
