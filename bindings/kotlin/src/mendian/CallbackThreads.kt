// How the JVM sees the native threads that call into Kotlin: the generated bindings register
// every JNA callback they define here (the line is added by `cargo xtask`, see
// xtask/src/kotlin_passes.rs), so a Rust thread that resumes a suspend call or calls a
// Kotlin logger, signer or token provider stays attached to the JVM after the call instead of
// being attached and detached, a new java.lang.Thread each time, on every callback.
package mendian

import com.sun.jna.Callback
import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native

/** Daemon threads (they never keep the JVM alive), left attached until the native thread ends. */
private val STAY_ATTACHED = CallbackThreadInitializer(true, false, "mendian-io")

/**
 * Keeps native threads that call [callback] attached to the JVM between calls.
 *
 * @suppress
 */
internal fun uniffiKeepCallbackThreadAttached(callback: Callback) {
    Native.setCallbackThreadInitializer(callback, STAY_ATTACHED)
}
