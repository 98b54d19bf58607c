// `runMendianLoop { … }`: `runBlocking` with an event loop whose idle time runs mendian's calls.
// The coroutines run on the calling thread, as in `runBlocking`; when none can run, the thread
// waits inside mendian (`ThreadLoop.waitForWork`), and that wait sends, reads and decodes the
// suspend calls the loop's coroutines started. A finished call resumes its coroutine from the
// same thread, so no other thread wakes this one when an answer arrives. Which calls run
// here is decided call by call, from the calling coroutine's dispatcher
// (`uniffiRunNextCallOnThreadLoop`, called by every generated suspend call).
package mendian

import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.coroutines.ContinuationInterceptor
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.coroutines.coroutineContext
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.async

/**
 * Runs [block] on the calling thread until it and its children complete, and returns its result,
 * like `runBlocking`, on an event loop that runs mendian's calls while it waits.
 *
 * The suspend calls of mendian's clients made from the loop's coroutines (`wx.getStoreList(…)`)
 * are sent, read and decoded on this thread whenever no coroutine can run, and resume their
 * coroutine from here. Elsewhere a suspend call also runs on the thread that polls it, but the
 * SDK's I/O thread watches its connection and wakes that thread when the answer arrives (a JNA
 * callback, then the coroutine's dispatch): here the waiting thread watches for itself.
 * Everything else is as in `runBlocking`: coroutines started with another dispatcher
 * (`Dispatchers.IO`, …) run there, and the SDK's I/O thread watches their mendian calls, as it
 * does those of a `runBlocking` nested inside the loop; `delay` and `withTimeout` work;
 * cancelling a coroutine cancels its call and closes its connection. Work dispatched to the loop after it returned runs on `Dispatchers.Default`, as
 * it would after `runBlocking`.
 *
 * Like `runBlocking`, it blocks the thread: call it from `main`, a test or a worker thread, not
 * from a coroutine or Android's main thread. Called from a callback mendian makes (a logger, a
 * signer), it throws `MendianException.InvalidArgument` and cancels [block]. While a coroutine
 * of the loop blocks the thread (`Thread.sleep`, a long computation), the loop's calls wait
 * too. A thread interrupt is not seen while the loop waits.
 *
 * @param context added to the loop's coroutine (a `CoroutineName`, a parent `Job`, …).
 */
fun <T> runMendianLoop(context: CoroutineContext = EmptyCoroutineContext, block: suspend CoroutineScope.() -> T): T {
    val loop = ThreadLoop()
    val dispatcher = MendianLoopDispatcher(loop)
    val result = CoroutineScope(context + dispatcher).async(block = block)
    try {
        while (true) {
            val task = dispatcher.queue.poll()
            if (task != null) {
                task.run()
                continue
            }
            if (result.isCompleted) break
            dispatcher.waiting = true
            try {
                // A dispatch from another thread after the poll above wakes this wait.
                loop.waitForWork()
            } finally {
                dispatcher.waiting = false
            }
        }
        @OptIn(ExperimentalCoroutinesApi::class)
        return result.getCompleted()
    } finally {
        // Left early (a failed wait): the block's coroutine is cancelled, not left behind.
        if (!result.isCompleted) result.cancel()
        dispatcher.close()
        // Not destroyed here: another thread may still be waking it. The cleaner frees it.
        loop.end()
    }
}

/**
 * Called at the start of every suspend call of the generated bindings (a line `cargo xtask` adds
 * to UniFFI's `uniffiRustCallAsync`, see xtask/src/kotlin_passes.rs): when the calling coroutine
 * runs on a [runMendianLoop] of this thread, its call runs on this thread, driven by the loop's
 * waits. Any other call (another dispatcher; a `runBlocking` inside the loop, whose thread parks
 * instead of waiting in mendian) is watched by the SDK's I/O thread as usual.
 */
internal suspend fun uniffiRunNextCallOnThreadLoop() {
    val dispatcher = coroutineContext[ContinuationInterceptor]
    if (dispatcher is MendianLoopDispatcher && dispatcher.owner === Thread.currentThread()) dispatcher.loop.runNextCallHere()
}

/** The loop's dispatcher: a queue the loop's thread drains, and a wake-up for its wait. */
private class MendianLoopDispatcher(val loop: ThreadLoop) : CoroutineDispatcher() {
    val owner: Thread = Thread.currentThread()
    val queue = ConcurrentLinkedQueue<Runnable>()

    /** Whether the owner thread is inside `waitForWork` (where a dispatch from it comes from a
     *  finished call's continuation, and must end the wait). */
    @Volatile var waiting = false

    @Volatile private var closed = false

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        queue.add(block)
        if (closed) {
            // The loop has returned: whoever takes the block out runs it elsewhere.
            if (queue.remove(block)) Dispatchers.Default.dispatch(context, block)
            return
        }
        if (waiting || Thread.currentThread() !== owner) loop.wake()
    }

    /** No more dispatches to the owner thread: what is still queued moves to `Dispatchers.Default`. */
    fun close() {
        closed = true
        while (true) {
            val block = queue.poll() ?: break
            Dispatchers.Default.dispatch(EmptyCoroutineContext, block)
        }
    }

    override fun toString(): String = "MendianLoop(${owner.name})"
}
