// TOP worker calls from Kotlin against the emulator: lifecycle, a signer implemented in
// Kotlin (as an app would call its backend), documented errors, and invalid input that is
// never sent.
package mendian.tests

import kotlinx.coroutines.runBlocking
import mendian.*
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

fun docWorker(serviceStoreCode: String = "网点编码", registerTime: String = "2016-06-28 10:30:00") = WorkerDto(
    address = AddressDto(addressDetail = "22", addressNames = listOf("222")),
    bizType = "appliance_install",
    coverCategoryIds = "123|456",
    identityId = "330106199001011234",
    name = "张三",
    phone = 1234567890L,
    providerId = 1L,
    providerName = "-",
    registerTime = registerTime,
    serviceAreas = listOf(DivisionDto(divisionNames = listOf("-"))),
    serviceStoreCode = serviceStoreCode,
    serviceTypes = listOf("-"),
    workType = "-",
    serviceCodes = "xxxx|xxxx",
)

class BackendSigner(private val secret: String) : TopSigner {
    var calls = 0
    override suspend fun sign(request: TopSignRequest): String {
        calls++
        // A backend signs only the calls it allows, over the text it rebuilt itself.
        check(request.apiName.startsWith("tmall.servicecenter.worker.") && request.params["method"] == request.apiName) { "not signing ${request.apiName}" }
        val canonical = request.params.toSortedMap().entries.joinToString("") { it.key + it.value }
        check(canonical == request.canonical) { "canonical strings differ" }
        val mac = Mac.getInstance("HmacSHA256")
        mac.init(SecretKeySpec(secret.toByteArray(), "HmacSHA256"))
        return mac.doFinal(canonical.toByteArray()).joinToString("") { "%02X".format(it) }
    }
}

fun topClient(emu: Emulator, signer: TopSigner? = null, simplify: Boolean = false): TopClient {
    val config = TopConfig(
        appKey = emu.profileValue("top_app_key"),
        options = ClientOptions(baseUrl = emu.profileValue("top_gateway_url"), language = "kotlin"),
        session = emu.profileValue("top_session"),
        simplify = simplify,
    )
    return TopClient(config, signer ?: topAppSecretSigner(emu.profileValue("top_app_secret")))
}

fun registerTopTests(s: Suite, emu: () -> Emulator) {
    s.test("TOP worker lifecycle: create, update, query, delete") {
        val e = emu()
        e.admin("POST", "/reset")
        val top = topClient(e, simplify = true)
        runBlocking {
            assertEquals(true, top.workerCreate(WorkerCreateRequest(workerDto = docWorker())).result?.value, "created")
            assertEquals(true, top.workerUpdate(WorkerUpdateRequest(worker = docWorker(serviceStoreCode = "网点B"))).result?.value, "updated")
            val found = top.workerQuery(WorkerQueryRequest(identityId = "330106199001011234")).result?.value
            assertEquals("网点B", found?.serviceStoreCode, "queried store code")
            val deleted = top.workerDelete(WorkerDeleteRequest(name = "张三", phone = 1234567890L, bizType = "appliance_install"))
            assertEquals(true, deleted.result?.value, "deleted")
        }
    }

    s.test("blocking calls for Java callers and worker threads: no coroutine needed") {
        val e = emu()
        e.admin("POST", "/reset")
        val top = topClient(e)
        assertEquals(true, top.workerCreateBlocking(WorkerCreateRequest(workerDto = docWorker())).result?.value, "created")
        val pages = top.queryAllWorkersBlocking()
        assertEquals(1, pages.size, "one page of workers")
        check(pages[0].contains("张三")) { "the page lists the worker: ${pages[0]}" }
        // A Kotlin signer is a suspend function; a blocking call still reaches it.
        val signer = BackendSigner(e.profileValue("top_app_secret"))
        val err = assertThrows<MendianException.Api> {
            topClient(e, signer).workerCreateBlocking(WorkerCreateRequest(workerDto = docWorker()))
        }
        assertEquals("10007", err.code, "the worker exists already")
        assertEquals(1, signer.calls, "signer calls")
        val bad = assertThrows<MendianException.InvalidArgument> {
            top.workerUpdateBlocking(WorkerUpdateRequest(worker = docWorker(registerTime = "2016/06/28")))
        }
        assertEquals("worker.register_time", bad.field, "field")
    }

    s.test("a create whose answer is lost throws OutcomeUnknown, and it was done") {
        val e = emu()
        e.admin("POST", "/reset")
        e.admin("POST", "/faults", """{"route":"/router/rest","kind":{"type":"drop_after_processing"},"times":1}""")
        val top = topClient(e)
        val lost = assertThrows<MendianException.OutcomeUnknown> { top.workerCreateBlocking(WorkerCreateRequest(workerDto = docWorker())) }
        assertEquals("worker_create", lost.endpoint, "endpoint")
        val again = assertThrows<MendianException.Api> { top.workerCreateBlocking(WorkerCreateRequest(workerDto = docWorker())) }
        assertEquals("10007", again.code, "the first attempt created it")
    }

    s.test("a TOP signer implemented in Kotlin") {
        val e = emu()
        e.admin("POST", "/reset")
        val signer = BackendSigner(e.profileValue("top_app_secret"))
        runBlocking { topClient(e, signer).workerCreate(WorkerCreateRequest(workerDto = docWorker())) }
        assertEquals(1, signer.calls, "signer calls")
    }

    s.test("an unknown worker surfaces 10006 with the document's message") {
        val e = emu()
        e.admin("POST", "/reset")
        val err = assertThrows<MendianException.Api> {
            runBlocking { topClient(e).workerUpdate(WorkerUpdateRequest(worker = docWorker())) }
        }
        assertEquals("10006", err.code, "code")
        assertEquals("工人不存在", err.serverMessage, "message")
    }

    s.test("a wrong TOP secret surfaces code 25") {
        val e = emu()
        val err = assertThrows<MendianException.Api> {
            runBlocking { topClient(e, topAppSecretSigner("wrong-secret")).workerUpdate(WorkerUpdateRequest(worker = docWorker())) }
        }
        assertEquals("25", err.code, "code")
    }

    s.test("bad TOP input is rejected and nothing is sent") {
        val e = emu()
        e.admin("POST", "/reset")
        val err = assertThrows<MendianException.InvalidArgument> {
            runBlocking { topClient(e).workerUpdate(WorkerUpdateRequest(worker = docWorker(registerTime = "2016/06/28"))) }
        }
        assertEquals("worker.register_time", err.field, "field")
        assertEquals("[]", e.admin("GET", "/requests"), "recorded requests")
    }
}
