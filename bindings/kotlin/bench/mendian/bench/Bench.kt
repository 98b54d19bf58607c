// Client CPU per call from Kotlin on the JVM (`cargo xtask bench`, last part): 门店小程序
// `get_store_list` (one store in the answer, as in the Python bench) through mendian, blocking (`getStoreListBlocking`) and suspend
// (`getStoreList`, awaited one at a time in `runBlocking`, and in `runMendianLoop`), next to the same HTTP exchange
// from plain reqwest (Rust) on a current-thread runtime in its own process
// (`crates/mendian/examples/bench_baseline.rs`), and the floor UniFFI's Kotlin runtime (JNA)
// sets: one exported call that does nothing, and one that only lowers a request. The emulator
// runs as its own process on loopback, so its work is never counted.
//
// CPU per call is the JVM process's CPU time (all threads: the caller, JIT, GC and the Rust
// runtime's; `CLOCK_PROCESS_CPUTIME_ID` on Linux, to the nanosecond) over N calls, after a
// warm-up long enough for the JIT; every round measures every client, starting with a
// different one each round; the table gives the median CPU per call and the median of the
// rounds' ratios.
//
//     java -cp … mendian.bench.BenchKt <emulator> <baseline> [calls] [rounds]
package mendian.bench

import java.io.BufferedReader
import java.io.InputStreamReader
import com.sun.jna.Library
import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Platform
import com.sun.jna.Pointer
import java.lang.management.ManagementFactory
import kotlinx.coroutines.runBlocking
import mendian.*
import mendian.testing.MendianEmulator

/** The plain-reqwest process: one JSON command in, one JSON measurement out. */
class Baseline(binary: String) : AutoCloseable {
    private val process = ProcessBuilder(binary).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    private val input = process.outputStream.bufferedWriter()
    private val output = BufferedReader(InputStreamReader(process.inputStream))

    /** CPU µs per call of `calls` get_store_list calls to `url` answering `stores` stores. */
    fun wxa(url: String, stores: Int, calls: Int): Double {
        input.write("""{"op":"wxa","runtime":"current","url":"$url","offset":0,"limit":10,"stores":$stores,"calls":$calls}""")
        input.newLine()
        input.flush()
        val line = output.readLine() ?: error("the baseline exited (${process.waitFor()})")
        return Regex("\"cpu_us_per_call\":\\s*([0-9.eE+-]+)").find(line)?.groupValues?.get(1)?.toDouble() ?: error("no cpu_us_per_call in $line")
    }

    override fun close() {
        input.close()
        process.waitFor()
    }
}

val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean

/** The C library's `clock_gettime`, through JNA (already on the classpath for UniFFI). */
interface CLib : Library {
    fun clock_gettime(clockId: Int, timespec: Pointer): Int
}

val clib: CLib? = if (Platform.isLinux()) Native.load("c", CLib::class.java) else null

/**
 * The process's CPU time in nanoseconds, all threads included (ended ones too). On Linux this
 * is `CLOCK_PROCESS_CPUTIME_ID`, to the nanosecond: the JVM's `processCpuTime` counts in the
 * kernel's 10 ms ticks there, which over a 1000-call round rounds every result to 10 µs.
 */
fun processCpuNs(): Long {
    val lib = clib ?: return os.processCpuTime
    val ts = Memory(16)
    check(lib.clock_gettime(2 /* CLOCK_PROCESS_CPUTIME_ID */, ts) == 0) { "clock_gettime failed" }
    return ts.getLong(0) * 1_000_000_000L + ts.getLong(8)
}

/** CPU µs per call of `body` making `calls` calls. */
fun cpuPerCall(calls: Int, body: () -> Unit): Double {
    val before = processCpuNs()
    body()
    return (processCpuNs() - before) / 1000.0 / calls
}

fun median(xs: List<Double>): Double = xs.sorted().let { s -> if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2 }

/** One approved map POI with a store on it, through the SDK: the answer the Python bench reads. */
fun seedOneStore(wx: WxaClient) {
    wx.createMapPoiBlocking(CreateMapPoiRequest(
        name = "基准熟食店00号", longitude = "113.323753357", latitude = "23.0974903107", province = "广东省",
        city = "广州市", district = "海珠区", address = "新港中路0号", category = "美食:中餐厅", telephone = "020-89190388",
        photo = "http://mmbiz.qpic.cn/mmbiz_png/a/0", license = "http://mmbiz.qpic.cn/mmbiz_png/b/0",
        introduct = "bench", districtid = "440105",
    ))
    val poi = wx.searchMapPoiBlocking(SearchMapPoiRequest(districtid = 440105L, keyword = "基准")).data.item.single()
    wx.addStoreBlocking(AddStoreRequest(
        mapPoiId = poi.sosomapPoiUid, picList = StorePicList(list = listOf("http://mmbiz.qpic.cn/mmbiz_jpg/bench/0?wx_fmt=jpeg")),
        contractPhone = "020-89190388", hour = "10:00-21:00", credential = "22883878-0", cardId = "",
    ))
}

fun main(args: Array<String>) {
    val (emulatorPath, baselinePath) = args
    val calls = args.getOrNull(2)?.toInt() ?: 3000
    val rounds = args.getOrNull(3)?.toInt() ?: 9
    MendianEmulator(emulatorPath).use { emu ->
        Baseline(baselinePath).use { baseline ->
            val base = emu.profileValue("wxa_base_url")
            val wx = WxaClient(
                WxaConfig(appid = emu.profileValue("wxa_appid"), options = ClientOptions(baseUrl = base, backupBaseUrl = "", language = "kotlin")),
                wxaStableTokenProvider(emu.profileValue("wxa_appid"), emu.profileValue("wxa_secret"), base),
                wxaMemoryTokenStore(),
            )
            seedOneStore(wx)
            val request = GetStoreListRequest(offset = 0, limit = 10)
            val stores = wx.getStoreListBlocking(request).businessList.size
            check(stores == 1) { "the emulator answered $stores stores, not the one seeded" }
            val url = "$base/wxa/get_store_list?access_token=${wx.accessTokenBlocking()}"
            val clients: Map<String, (Int) -> Double> = linkedMapOf(
                "reqwest" to { n -> baseline.wxa(url, stores, n) },
                "blocking" to { n ->
                    cpuPerCall(n) { repeat(n) { check(wx.getStoreListBlocking(request).businessList.size == stores) } }
                },
                "suspend" to { n ->
                    cpuPerCall(n) { runBlocking { repeat(n) { check(wx.getStoreList(request).businessList.size == stores) } } }
                },
                "mendian-loop" to { n ->
                    cpuPerCall(n) { runMendianLoop { repeat(n) { check(wx.getStoreList(request).businessList.size == stores) } } }
                },
                // What UniFFI's Kotlin runtime (JNA) costs before any work: one exported call that
                // returns a short string, and one that lowers the request and checks it.
                // Ten times the calls: one costs only a few µs.
                "ffi-call" to { n -> cpuPerCall(10 * n) { repeat(10 * n) { check(mendianVersion().isNotEmpty()) } } },
                "validate" to { n -> cpuPerCall(10 * n) { repeat(10 * n) { validateGetStoreListRequest(request) } } },
            )
            // The JIT compiles the call paths during the first thousands of calls.
            for ((_, c) in clients) c(5 * calls)
            val samples = clients.keys.associateWith { mutableListOf<Double>() }
            val names = clients.keys.toList()
            for (round in 0 until rounds) {
                emu.admin("DELETE", "/requests")
                val order = names.drop(round % names.size) + names.take(round % names.size)
                for (name in order) {
                    clients.getValue(name)(calls / 10)
                    samples.getValue(name).add(clients.getValue(name)(calls))
                }
                System.err.println("  kotlin: round ${round + 1}/$rounds done")
            }
            val java = System.getProperty("java.version")
            println("Client CPU per call from Kotlin (JVM $java, ${Runtime.getRuntime().availableProcessors()} CPUs), `get_store_list` answering $stores store(s), emulator in its own process on loopback; $rounds rounds of $calls calls per client after a warm-up (${5 * calls} calls, then ${calls / 10} before each measurement), clients alternating; CPU is the median over the rounds, the ratio the median of the rounds' ratios")
            println()
            println("| client | CPU µs per call | ratio (range over rounds) | target |")
            println("|---|---:|---:|---|")
            val labels = mapOf(
                "reqwest" to "plain reqwest (Rust), current-thread runtime",
                "blocking" to "mendian from Kotlin, blocking (`getStoreListBlocking`)",
                "suspend" to "mendian from Kotlin, suspend (`getStoreList` in `runBlocking`)",
                "mendian-loop" to "mendian from Kotlin, suspend (`getStoreList` in `runMendianLoop`)",
                "ffi-call" to "one UniFFI call that does nothing (`mendianVersion()`, no I/O)",
                "validate" to "one UniFFI call that lowers the request (`validateGetStoreListRequest`, no I/O)",
            )
            val targets = mapOf("blocking" to 2.0, "suspend" to 2.5, "mendian-loop" to 2.5)
            for (name in names) {
                val ratios = samples.getValue(name).zip(samples.getValue("reqwest")).map { (c, b) -> c / b }
                val ratio = median(ratios)
                val spread = if (name == "reqwest") "" else " (%.2f–%.2f)".format(ratios.min(), ratios.max())
                val verdict = targets[name]?.let { t -> "≤ %.1f× %s".format(t, if (ratio <= t) "met" else "missed") } ?: ""
                println("| ${labels.getValue(name)} | %.0f | %.2f×%s | %s |".format(median(samples.getValue(name)), ratio, spread, verdict))
            }
        }
    }
}
