// Test your JVM app against mendian's emulator: starts the `mendian-emulator` binary on a free
// loopback port and hands over its connection profile and admin API. Usable from JUnit or any
// other runner (it is an AutoCloseable: `MendianEmulator().use { … }`).
package mendian.testing

import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.HttpURLConnection
import java.net.URI

/** No `mendian-emulator` binary could be found, or it did not start. */
class MendianEmulatorNotFound(message: String) : RuntimeException(message)

/**
 * A running emulator. The binary is [binary], else the `mendian.emulator` system property,
 * else the `MENDIAN_EMULATOR_BIN` environment variable, else `mendian-emulator` on `PATH`.
 * [profile] is its connection profile (JSON: base URLs and the test credentials it accepts);
 * [profileValue] reads one string member. [toString] shows where it listens, never the keys.
 */
class MendianEmulator(binary: String? = null) : AutoCloseable {
    private val path: String = find(binary)
    private val process: Process = ProcessBuilder(path, "--host", "127.0.0.1", "--port", "0").start()

    /** The connection profile, one JSON object. */
    val profile: String = BufferedReader(InputStreamReader(process.inputStream)).readLine()
        ?: throw MendianEmulatorNotFound("$path exited with ${process.waitFor()} before printing its connection profile")

    /** A top-level string member of [profile] (`wxa_base_url`, `wxa_appid`, …). */
    fun profileValue(key: String): String =
        Regex("\"${Regex.escape(key)}\":\"([^\"]*)\"").find(profile)?.groupValues?.get(1)
            ?: throw IllegalArgumentException("the emulator profile has no string member `$key`")

    /** Calls the admin API (`/reset`, `/requests`, `/faults`, …) and returns the answer text. */
    fun admin(method: String, route: String, body: String? = null): String {
        val conn = URI(profileValue("admin_url") + route).toURL().openConnection() as HttpURLConnection
        conn.requestMethod = method
        if (body != null) {
            conn.doOutput = true
            conn.setRequestProperty("content-type", "application/json")
            conn.outputStream.use { it.write(body.toByteArray()) }
        }
        val text = (if (conn.responseCode >= 400) conn.errorStream else conn.inputStream)?.use { it.readBytes().decodeToString() } ?: ""
        if (conn.responseCode >= 400) throw IllegalStateException("admin $method $route answered ${conn.responseCode}: $text")
        return text
    }

    /** Forgets every store, guide, worker, token, fault and recorded request. */
    fun reset() {
        admin("POST", "/reset")
    }

    /** Whether the process is still running. */
    val running: Boolean get() = process.isAlive

    override fun toString(): String = "MendianEmulator(admin_url=${profileValue("admin_url")}, running=$running)"

    /** Stops the process. */
    override fun close() {
        process.destroy()
        process.waitFor()
    }

    companion object {
        /** The binary [MendianEmulator] would start, by the order its constructor documents. */
        fun find(binary: String? = null): String {
            val candidate = binary
                ?: System.getProperty("mendian.emulator")
                ?: System.getenv("MENDIAN_EMULATOR_BIN")
                ?: System.getenv("PATH")?.split(File.pathSeparator)?.map { File(it, "mendian-emulator") }?.firstOrNull { it.canExecute() }?.path
                ?: throw MendianEmulatorNotFound(
                    "mendian-emulator was not found: pass its path, set -Dmendian.emulator or MENDIAN_EMULATOR_BIN, or put it on PATH"
                )
            if (!File(candidate).let { it.isFile && it.canExecute() }) throw MendianEmulatorNotFound("$candidate is not an executable file")
            return candidate
        }
    }
}
