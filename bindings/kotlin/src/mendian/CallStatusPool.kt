// The status every call into Rust reports through: the generated bindings take one from this
// thread's pool and give it back after the call (the lines are added by `cargo xtask`, see
// xtask/src/kotlin_passes.rs), instead of allocating a JNA structure, two native allocations
// registered with JNA's cleaner, for every call. A nested call on the same thread (a Kotlin
// callback that calls into Rust while Rust waits for it) takes another status from the pool.
package mendian

/** Statuses kept per thread; a deeper nesting allocates and is not kept. */
private const val KEPT_PER_THREAD = 8

// Not `ThreadLocal.withInitial`: Android has it only from API 26.
private val POOL = object : ThreadLocal<ArrayDeque<UniffiRustCallStatus>>() {
    override fun initialValue() = ArrayDeque<UniffiRustCallStatus>(KEPT_PER_THREAD)
}

/**
 * A call status reading success with an empty error buffer, from this thread's pool.
 *
 * @suppress
 */
internal fun uniffiTakeCallStatus(): UniffiRustCallStatus {
    val status = POOL.get()!!.removeLastOrNull() ?: return UniffiRustCallStatus()
    status.code = UNIFFI_CALL_SUCCESS
    status.error_buf.capacity = 0
    status.error_buf.len = 0
    status.error_buf.data = null
    return status
}

/**
 * Gives [status] back to this thread's pool once its call is over and checked.
 *
 * @suppress
 */
internal fun uniffiGiveBackCallStatus(status: UniffiRustCallStatus) {
    val pool = POOL.get()!!
    if (pool.size < KEPT_PER_THREAD) pool.addLast(status)
}
