// A minimal test runner for the JVM suite: no JUnit or Gradle is available from the
// registries our build machines reach, so tests are plain functions registered with `test`,
// run in order, and summarised as `N passed, N failed`; the process exits non-zero on any
// failure.
package mendian.tests


class AssertionFailed(message: String) : Exception(message)

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionFailed(message())
}

fun <T> assertEquals(expected: T, actual: T, what: String = "value") {
    if (expected != actual) throw AssertionFailed("$what: expected <$expected> but was <$actual>")
}

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionFailed("expected ${E::class.simpleName} but got ${e::class.qualifiedName}: ${e.message}")
    }
    throw AssertionFailed("expected ${E::class.simpleName} but nothing was thrown")
}

class Suite {
    private val tests = mutableListOf<Pair<String, () -> Unit>>()

    fun test(name: String, body: () -> Unit) {
        tests += name to body
    }

    /** Runs every test; returns the number of failures. */
    fun run(): Int {
        var passed = 0
        var failed = 0
        for ((name, body) in tests) {
            try {
                body()
                passed++
                println("  ok      $name")
            } catch (e: Throwable) {
                failed++
                println("  FAILED  $name: ${e::class.simpleName}: ${e.message}")
            }
        }
        println("$passed passed, $failed failed")
        return failed
    }
}

/** The suite runs on the helper the library ships to its users. */
typealias Emulator = mendian.testing.MendianEmulator

/**
 * A `redis-server` (the binary in the `mendian.redis` system property, which `cargo xtask
 * test` sets) on a free loopback port, keeping nothing on disk; stopped by `close`.
 */
class RedisServer : AutoCloseable {
    val port: Int = java.net.ServerSocket(0).use { it.localPort }
    private val process: Process
    val url: String get() = "redis://127.0.0.1:$port/"

    init {
        val binary = System.getProperty("mendian.redis") ?: error("-Dmendian.redis is not set: run the suite through `cargo xtask test`")
        process = ProcessBuilder(binary, "--bind", "127.0.0.1", "--port", port.toString(), "--save", "", "--appendonly", "no")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
        val deadline = System.nanoTime() + 10_000_000_000L
        while (true) {
            try {
                java.net.Socket("127.0.0.1", port).close()
                break
            } catch (e: java.io.IOException) {
                check(System.nanoTime() < deadline) { "redis-server did not listen on $port" }
                Thread.sleep(20)
            }
        }
    }

    override fun close() {
        process.destroy()
        process.waitFor()
    }
}
