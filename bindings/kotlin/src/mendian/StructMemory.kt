// How the generated bindings' two JNA structures, `RustBuffer` and `UniffiRustCallStatus`, get
// their native memory and copy their fields (the overrides are added by `cargo xtask`, see
// xtask/src/kotlin_passes.rs).
//
// JNA gives every structure it creates its own `Memory` (a `malloc`, an entry in a global
// concurrent map, a cleaner registration; twice for a structure returned by value) and copies
// fields by reflection. Every call that passes or returns a `RustBuffer` paid that, and the
// garbage collector then traced every cleaner reference: young collections took 140–180 ms
// with 97 MB surviving, against about 1 ms and 5 MB with this file.
//
// A `RustBuffer`'s native memory is only read or written in two short windows, both on one
// thread with no Kotlin code of the bindings in between: from JNA writing an argument until the
// call copies it, and from a call returning a value until JNA reads it into the fields. Outside
// them the fields are the truth. So each thread hands its structures consecutive slots of one
// ring; a slot is reused only after [SLOTS] more structures were made on that thread, far more
// than any call's arguments and result.
package mendian

import com.sun.jna.Memory
import com.sun.jna.Pointer

/** Bytes per slot: a `RustBuffer` is 24 (two 64-bit integers and a pointer). */
private const val SLOT_BYTES = 32L

/** Slots per thread. */
private const val SLOTS = 256

/** One thread's ring of slots: a single native allocation, freed when nothing uses it. */
private class SlotRing : Memory(SLOT_BYTES * SLOTS) {
    var next = 0
}

/** A view of one slot; it keeps its ring alive, and owns nothing to free. */
private class Slot(ring: SlotRing, offset: Long, size: Long) : Memory() {
    @Suppress("unused") private val ring = ring

    init {
        peer = Pointer.nativeValue(ring) + offset
        this.size = size
    }

    override fun dispose() {
        peer = 0
    }
}

// Not `ThreadLocal.withInitial`: Android has it only from API 26.
private val RINGS = object : ThreadLocal<SlotRing>() {
    override fun initialValue() = SlotRing()
}

/**
 * Native memory for one `RustBuffer` structure: the next slot of this thread's ring, zeroed.
 * A larger request (none is expected) gets memory of its own, as JNA would give it.
 *
 * @suppress
 */
internal fun uniffiStructMemory(size: Int): Memory {
    if (size > SLOT_BYTES) return Memory(size.toLong()).also { it.clear() }
    val ring = RINGS.get()!!
    val i = ring.next
    ring.next = (i + 1) % SLOTS
    return Slot(ring, i * SLOT_BYTES, size.toLong()).also { it.clear() }
}

/**
 * Reads a `RustBuffer` laid out at [offset] of [p] into [b] (capacity, len, data: offsets 0, 8
 * and 16 on every platform, each field being 8 bytes or a pointer after two of them).
 *
 * @suppress
 */
internal fun uniffiReadRustBuffer(b: RustBuffer, p: Pointer, offset: Long) {
    b.capacity = p.getLong(offset)
    b.len = p.getLong(offset + 8)
    b.data = p.getPointer(offset + 16)
}

/**
 * Writes [b]'s fields as a `RustBuffer` at [offset] of [p].
 *
 * @suppress
 */
internal fun uniffiWriteRustBuffer(b: RustBuffer, p: Pointer, offset: Long) {
    p.setLong(offset, b.capacity)
    p.setLong(offset + 8, b.len)
    p.setPointer(offset + 16, b.data)
}

/**
 * Where `error_buf` starts in a `UniffiRustCallStatus` (after the one-byte code, aligned as
 * JNA lays it out); -1 until the first status computes it.
 *
 * @suppress
 */
@Volatile internal var uniffiErrorBufOffsetCache = -1L

/**
 * The offset of `error_buf` in a call status, computed once by [layout] (JNA's `fieldOffset`).
 *
 * @suppress
 */
internal inline fun uniffiErrorBufOffset(layout: () -> Int): Long {
    val known = uniffiErrorBufOffsetCache
    return if (known >= 0) known else layout().toLong().also { uniffiErrorBufOffsetCache = it }
}
