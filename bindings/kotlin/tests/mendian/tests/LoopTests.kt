// `runMendianLoop` against the emulator: its calls run on its own thread (a logger records the
// thread of each exchange; every suspend call runs on the thread that polls it, in a loop or
// not: which runtime drives it is held by a unit test in crates/mendian/src/ffi/thread_loop.rs),
// with the same answers and errors as in `runBlocking`; hundreds of
// calls at once with a Kotlin token provider; cancellation, `delay` and other dispatchers
// inside it; nesting, `runBlocking` inside it; work that outlives it; and `ThreadLoop` refusing
// other threads.
package mendian.tests

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import mendian.*
import java.util.Collections
import kotlin.coroutines.ContinuationInterceptor
import kotlin.coroutines.coroutineContext

/** Records the thread of every exchange the SDK makes while installed. */
class ThreadLogger : MendianLogger {
    val threads: MutableList<String> = Collections.synchronizedList(mutableListOf())
    override fun log(exchange: HttpExchange) {
        threads += Thread.currentThread().name
    }
}

fun <T> withThreadLogger(body: (ThreadLogger) -> T): T {
    val logger = ThreadLogger()
    setMendianLogger(logger, LogLevel.INFO)
    try {
        return body(logger)
    } finally {
        setMendianLogger(null, LogLevel.INFO)
    }
}

/** A client of the emulator, reset first, whose token is already fetched: a logger installed
 *  next sees only the calls under test. */
fun warmWxaClient(e: Emulator): WxaClient {
    e.admin("POST", "/reset")
    return wxaClient(e).also { it.getStoreListBlocking(GetStoreListRequest(offset = 0, limit = 1)) }
}

fun registerLoopTests(s: Suite, emu: () -> Emulator) {
    s.test("runMendianLoop runs the calls on its own thread, with runBlocking's answers and errors") {
        val e = emu()
        val wx = warmWxaClient(e)
        val request = GetStoreListRequest(offset = 0, limit = 10)
        val me = Thread.currentThread().name
        val (onLoop, loopThreads) = withThreadLogger { log ->
            runMendianLoop { wx.getStoreList(request) to wx.getMerchantCategory(GetMerchantCategoryRequest()) } to log.threads.toList()
        }
        val (standard, standardThreads) = withThreadLogger { log ->
            runBlocking { wx.getStoreList(request) to wx.getMerchantCategory(GetMerchantCategoryRequest()) } to log.threads.toList()
        }
        assertEquals(standard, onLoop, "answers")
        assertEquals(listOf(me, me), loopThreads, "threads of the loop's exchanges")
        assertEquals(listOf(me, me), standardThreads, "threads of runBlocking's exchanges (where the call is polled)")

        e.fault("POST /wxa/get_store_list", """{"type":"wxa_errcode","errcode":45009,"errmsg":""}""")
        val api = assertThrows<MendianException.Api> { runMendianLoop { wx.getStoreList(request) } }
        assertEquals("45009", api.code, "API error code")
        val before = e.sentTo("get_store_list")
        val bad = assertThrows<MendianException.InvalidArgument> { runMendianLoop { wx.getStoreList(GetStoreListRequest(offset = 0, limit = 51)) } }
        assertEquals("limit", bad.field, "field")
        assertEquals(before, e.sentTo("get_store_list"), "requests sent for bad input")
        // A failure of the block itself comes out of runMendianLoop as it is.
        val own = assertThrows<IllegalStateException> { runMendianLoop<Unit> { wx.getStoreList(request); error("the block's own failure") } }
        assertEquals("the block's own failure", own.message, "message")
    }

    s.test("runMendianLoop: 300 calls at once with a Kotlin token provider, all on the loop's thread") {
        val e = emu()
        e.admin("POST", "/reset")
        val provider = BackendTokenProvider(e)
        val wx = wxaClient(e, provider = provider)
        val me = Thread.currentThread().name
        val (answers, threads) = withThreadLogger { log ->
            runMendianLoop {
                (0 until 300).map { async { wx.getStoreList(GetStoreListRequest(offset = 0, limit = 10)).totalCount } }.awaitAll()
            } to log.threads.toList()
        }
        assertEquals(List(300) { 0 }, answers, "answers")
        assertEquals(1, provider.calls, "token provider calls")
        assertEquals(300, threads.size, "exchanges logged")
        assertEquals(setOf(me), threads.toSet(), "threads of the exchanges")
    }

    s.test("runMendianLoop: a cancelled call stops at once; delay, other dispatchers and blocking calls work inside") {
        val e = emu()
        e.admin("POST", "/reset")
        val wx = wxaClient(e)
        val request = GetStoreListRequest(offset = 0, limit = 1)
        wx.getStoreListBlocking(request)
        e.fault("POST /wxa/get_store_list", """{"type":"delay","millis":5000}""")
        val started = System.nanoTime()
        val result = runMendianLoop { withTimeoutOrNull(300) { wx.getStoreList(request) } }
        val tookMs = (System.nanoTime() - started) / 1_000_000
        assertEquals(null, result, "cancelled by withTimeout")
        check(tookMs < 2000) { "cancelling waited for the server: $tookMs ms" }
        val wx2 = warmWxaClient(e)
        val me = Thread.currentThread().name
        withThreadLogger { log ->
            runMendianLoop {
                val slow = async { delay(200); wx2.getStoreList(request).totalCount }
                val elsewhere = withContext(Dispatchers.IO) { wx2.getStoreList(request).totalCount }
                val blocking = wx2.getStoreListBlocking(request).totalCount
                assertEquals(listOf(0, 0, 0), listOf(slow.await(), elsewhere, blocking), "answers")
            }
            val threads = log.threads.toList()
            check(threads.first().startsWith("DefaultDispatcher-worker")) { "Dispatchers.IO's call ran on ${threads.first()}" }
            assertEquals(listOf(me, me), threads.drop(1), "threads: the blocking call, the delayed one")
        }
    }

    s.test("runMendianLoop nests (with itself and with runBlocking), and work dispatched to it after it returned runs on Dispatchers.Default") {
        val e = emu()
        val wx = warmWxaClient(e)
        val request = GetStoreListRequest(offset = 0, limit = 1)
        val me = Thread.currentThread().name
        var late: Job? = null
        val lateThread = Collections.synchronizedList(mutableListOf<String>())
        withThreadLogger { log ->
            runMendianLoop {
                val inner = runMendianLoop { wx.getStoreList(request).totalCount }
                // runBlocking parks the thread in the JVM: its call must not wait for this loop.
                val parked = runBlocking { wx.getStoreList(request).totalCount }
                val outer = wx.getStoreList(request).totalCount
                assertEquals(Triple(0, 0, 0), Triple(inner, parked, outer), "inner, runBlocking and outer answers")
                // Not a child of the loop's coroutine: it outlives runMendianLoop.
                late = CoroutineScope(coroutineContext[ContinuationInterceptor]!!).launch {
                    delay(200)
                    lateThread += Thread.currentThread().name
                    wx.getStoreList(request)
                }
            }
            runBlocking { late!!.join() }
            check(late!!.isCompleted && !late!!.isCancelled) { "the late coroutine did not finish: $late" }
            check(lateThread.single() != me) { "it ran on the loop's thread after the loop returned" }
            val threads = log.threads.toList()
            assertEquals(listOf(me, me, me), threads.take(3), "threads: inner, runBlocking, outer")
            check(threads.drop(3).single().startsWith("DefaultDispatcher-worker")) { "the late call ran on ${threads.drop(3)}" }
        }
    }

    s.test("runMendianLoop inside a callback mendian calls fails with InvalidArgument and leaves nothing running") {
        val e = emu()
        val wx = warmWxaClient(e)
        val outcomes = Collections.synchronizedList(mutableListOf<String>())
        var left: Job? = null
        class LoopInLogger : MendianLogger {
            override fun log(exchange: HttpExchange) {
                val err = runCatching {
                    runMendianLoop {
                        left = coroutineContext[Job]
                        delay(10)
                    }
                }.exceptionOrNull()
                outcomes += (err as? MendianException.InvalidArgument)?.field ?: "not InvalidArgument: $err"
            }
        }
        setMendianLogger(LoopInLogger(), LogLevel.INFO)
        try {
            runBlocking { wx.getStoreList(GetStoreListRequest(offset = 0, limit = 1)) }
        } finally {
            setMendianLogger(null, LogLevel.INFO)
        }
        assertEquals(listOf("blocking call"), outcomes.toList(), "the loop's failure, from the logger inside the call")
        check(left!!.isCancelled) { "the block's coroutine was left running: $left" }
    }

    s.test("ThreadLoop refuses other threads and waits after end") {
        val loop = ThreadLoop()
        try {
            var fromOther: Throwable? = null
            val t = Thread { fromOther = runCatching { loop.waitForWork() }.exceptionOrNull(); loop.wake() }
            t.start()
            t.join()
            check(fromOther is MendianException.InvalidArgument) { "another thread's wait: $fromOther" }
            loop.waitForWork() // woken by the other thread
            loop.end()
            assertThrows<MendianException.InvalidArgument> { loop.waitForWork() }
        } finally {
            loop.end()
            loop.destroy()
        }
    }
}
