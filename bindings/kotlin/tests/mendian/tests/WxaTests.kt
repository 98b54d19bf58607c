// 门店小程序 from Kotlin against the emulator: the onboarding with the audit events pushed
// (safe mode) to a callback server the test runs (com.sun.net.httpserver) and verified by the
// SDK; a token provider and a token store implemented in Kotlin, as an app that asks its
// backend for tokens and a fleet of servers sharing them would; tokens that expire mid-flow,
// -1 and 45009; bad input that is never sent; plain-mode and tampered pushes, URL verification.
package mendian.tests

import com.sun.net.httpserver.HttpServer
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import mendian.*
import java.net.HttpURLConnection
import java.net.InetSocketAddress
import java.net.URI
import java.net.URLDecoder
import java.net.URLEncoder
import java.security.MessageDigest
import java.util.Collections
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** A valid 1×1 PNG (signature, IHDR, IDAT, IEND). */
val TINY_PNG: ByteArray = intArrayOf(
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xC9, 0xFE, 0x92, 0xEF, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
).map { it.toByte() }.toByteArray()

val TINY_GIF: ByteArray = "GIF89a".toByteArray() + byteArrayOf(1, 0, 1, 0, 0, 0, 0, 0x3B)

const val WXA_PIC_1 = "http://mmbiz.qpic.cn/mmbiz_jpg/tW66AWvE2K4EJxIYOVpiaGOkfg0iayibiaP2xHOChvbmKQD5uh8ymibbEKlTTPmjTdQ8ia43sULLeG1pT2psOfPic4kTw/0?wx_fmt=jpeg"
const val WXA_PIC_2 = "http://mmbiz.qpic.cn/mmbiz_jpg/second/0?wx_fmt=jpeg"

fun wxaClient(emu: Emulator, provider: WxaTokenProvider? = null, store: WxaTokenStore? = null): WxaClient {
    val config = WxaConfig(
        appid = emu.profileValue("wxa_appid"),
        options = ClientOptions(baseUrl = emu.profileValue("wxa_base_url"), backupBaseUrl = "", language = "kotlin"),
    )
    val p = provider ?: wxaStableTokenProvider(emu.profileValue("wxa_appid"), emu.profileValue("wxa_secret"), emu.profileValue("wxa_base_url"))
    // Clients of one host share the process's token memory; the emulator forgets its tokens
    // when a test resets it, so each test's client starts with its own.
    return WxaClient(config, p, store ?: wxaMemoryTokenStore())
}

fun pushReceiver(emu: Emulator, safe: Boolean = true) = WxaPushReceiver(
    WxaPushConfig(
        token = emu.profileValue("wxa_push_token"),
        encodingAesKey = if (safe) emu.profileValue("wxa_encoding_aes_key") else null,
        previousEncodingAesKey = null,
        appid = emu.profileValue("wxa_appid"),
    ),
)

/** A top-level integer member of a JSON object. */
fun jsonNumber(json: String, key: String): Long =
    Regex("\"$key\":(-?\\d+)").find(json)?.groupValues?.get(1)?.toLong() ?: error("no $key in $json")

fun Emulator.tokenFetches(): Long = jsonNumber(admin("GET", "/wxa"), "token_fetches")

/**
 * GET /__admin/wxa once its push log holds [count] attempts (the emulator records an attempt
 * only after reading the callback's answer, so it can lag the push itself).
 */
fun Emulator.wxaStateWithPushes(count: Int, timeoutMs: Long = 5000): String {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (true) {
        val state = admin("GET", "/wxa")
        if (Regex("\"attempt\":").findAll(state).count() >= count || System.currentTimeMillis() > deadline) return state
        Thread.sleep(20)
    }
}

fun Emulator.sentTo(endpoint: String): Int = Regex("\"endpoint\":\"$endpoint\"").findAll(admin("GET", "/requests?platform=wxa")).count()

fun Emulator.fault(route: String, kind: String, times: Int = 1) {
    admin("POST", "/faults", """{"route":"$route","kind":$kind,"times":$times}""")
}

fun sha1Signature(vararg parts: String): String =
    MessageDigest.getInstance("SHA-1").digest(parts.sorted().joinToString("").toByteArray()).joinToString("") { "%02x".format(it) }

/** What an app's backend does: it holds the AppSecret and asks WeChat for a stable token. */
fun backendStableToken(emu: Emulator): Pair<String, Long> {
    val conn = URI(emu.profileValue("wxa_base_url") + "/cgi-bin/stable_token").toURL().openConnection() as HttpURLConnection
    conn.requestMethod = "POST"
    conn.doOutput = true
    conn.setRequestProperty("content-type", "application/json")
    conn.setRequestProperty("user-agent", "our-backend/1.0")
    val body = """{"grant_type":"client_credential","appid":"${emu.profileValue("wxa_appid")}","secret":"${emu.profileValue("wxa_secret")}"}"""
    conn.outputStream.use { it.write(body.toByteArray()) }
    val answer = conn.inputStream.use { it.readBytes().decodeToString() }
    val token = Regex("\"access_token\":\"([^\"]+)\"").find(answer)?.groupValues?.get(1) ?: error("no token in $answer")
    return token to jsonNumber(answer, "expires_in")
}

/** Tokens come from "our backend"; the SDK never sees the secret. */
class BackendTokenProvider(private val emu: Emulator) : WxaTokenProvider {
    @Volatile var calls = 0
    val forced: MutableList<Boolean> = Collections.synchronizedList(mutableListOf())

    override suspend fun fetchToken(forceRefresh: Boolean): WxaAccessToken {
        calls++
        forced += forceRefresh
        val (token, expiresIn) = withContext(Dispatchers.IO) { backendStableToken(emu) }
        return WxaAccessToken(accessToken = token, expiresIn = expiresIn.toULong())
    }
}

/** One token store for several servers (think Redis), here a synchronized map. */
class SharedTokenStore : WxaTokenStore {
    val tokens: MutableMap<String, WxaStoredToken> = Collections.synchronizedMap(mutableMapOf())
    @Volatile var saves = 0
    val invalidated: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override suspend fun load(appid: String): WxaStoredToken? = tokens[appid]

    override suspend fun save(appid: String, token: WxaStoredToken) {
        saves++
        tokens[appid] = token
    }

    override suspend fun invalidate(appid: String, accessToken: String) {
        invalidated += accessToken
        synchronized(tokens) { if (tokens[appid]?.accessToken == accessToken) tokens.remove(appid) }
    }

    // One process here: the cache's own per-process lock is enough.
    override suspend fun tryLock(appid: String, holder: String, ttlMs: ULong): Boolean = true

    override suspend fun unlock(appid: String, holder: String) {}
}

fun parseQuery(raw: String?): Map<String, String> =
    (raw ?: "").split('&').filter { it.isNotEmpty() }.associate {
        val (k, v) = if ('=' in it) it.substringBefore('=') to it.substringAfter('=') else it to ""
        URLDecoder.decode(k, "UTF-8") to URLDecoder.decode(v, "UTF-8")
    }

/**
 * The merchant's server URL on loopback: every POST is verified and decrypted with the SDK's
 * WxaPushReceiver and answered `success`; a GET is the URL verification (answers echostr).
 */
class PushCallback(private val receiver: WxaPushReceiver) : AutoCloseable {
    val pushes = LinkedBlockingQueue<WxaPush>()
    val raw: MutableList<Pair<Map<String, String>, String>> = Collections.synchronizedList(mutableListOf())
    val errors: MutableList<Throwable> = Collections.synchronizedList(mutableListOf())
    private val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
    val url: String

    init {
        server.createContext("/wechat/push") { ex ->
            val query = parseQuery(ex.requestURI.rawQuery)
            val (status, text) = try {
                if (ex.requestMethod == "POST") {
                    val body = ex.requestBody.readBytes().decodeToString()
                    raw += query to body
                    pushes.put(receiver.receive(query, body))
                    200 to "success"
                } else {
                    200 to receiver.verifyUrl(query)
                }
            } catch (e: MendianException) {
                errors += e
                403 to "rejected"
            }
            val bytes = text.toByteArray()
            ex.sendResponseHeaders(status, bytes.size.toLong())
            ex.responseBody.use { it.write(bytes) }
        }
        server.start()
        url = "http://127.0.0.1:${server.address.port}/wechat/push"
    }

    fun nextPush(seconds: Long = 10): WxaPush =
        pushes.poll(seconds, TimeUnit.SECONDS) ?: throw AssertionFailed("no verified push within $seconds s (rejected: $errors)")

    override fun close() = server.stop(0)
}

fun withCallback(emu: Emulator, mode: String, receiver: WxaPushReceiver = pushReceiver(emu, mode == "safe"), body: (PushCallback) -> Unit) {
    PushCallback(receiver).use { cb ->
        emu.admin("PUT", "/wxa", """{"callback_url":"${cb.url}","push_mode":"$mode","audit_delay_ms":0}""")
        body(cb)
    }
}

fun applyRequest(mediaId: String = "MEDIA", nickname: String = "门店小程序测试", first: Long = 278, second: Long = 280, qualification: String? = null) =
    ApplyMerchantRequest(firstCatid = first, secondCatid = second, headimgMediaid = mediaId, nickname = nickname, intro = "门店介绍", qualificationList = qualification)

fun storeRequest(mapPoiId: String = "2880741500279549033", hour: String = "10:00-21:00", pics: List<String> = listOf(WXA_PIC_1)) =
    AddStoreRequest(mapPoiId = mapPoiId, picList = StorePicList(list = pics), contractPhone = "020-89190388", hour = hour, credential = "22883878-0", cardId = "")

fun updateRequest(poiId: String, hour: String = "09:00-22:00", pics: List<String> = listOf(WXA_PIC_2)) =
    UpdateStoreRequest(poiId = poiId, hour = hour, contractPhone = "020-89190388", picList = StorePicList(list = pics), cardId = "")

fun pngUpload() = UploadMediaRequest(type = WxaMediaType.Image, media = TINY_PNG)

inline fun <reified T : WxaEvent> eventOf(push: WxaPush): T =
    push.event as? T ?: throw AssertionFailed("expected ${T::class.simpleName} but the push was ${push.event}")

fun changedLast(s: String) = s.dropLast(1) + (if (s.last() == '0') '1' else '0')

fun registerWxaTests(s: Suite, emu: () -> Emulator) {
    s.test("the Rust threads that resume suspend calls stay attached to the JVM between calls") {
        val e = emu()
        e.admin("POST", "/reset")
        val wx = wxaClient(e)
        val request = GetStoreListRequest(offset = 0, limit = 1)
        runBlocking { repeat(20) { assertEquals(0, wx.getStoreList(request).totalCount, "suspend call") } }
        // JNA would attach the calling thread for each callback and detach it after (a new
        // java.lang.Thread each time); the bindings register their callbacks to stay attached.
        val attached = Thread.getAllStackTraces().keys.filter { it.name == "mendian-io" }
        check(attached.isNotEmpty() && attached.all { it.isDaemon }) {
            "no attached mendian-io thread after 20 suspend calls: ${Thread.getAllStackTraces().keys.map { it.name }}"
        }
    }

    s.test("calls stay intact while a Kotlin callback makes hundreds of calls of its own") {
        // The bindings give each thread's RustBuffer structures slots of one ring (StructMemory.kt);
        // a logger runs on the caller's thread inside the outer call and wraps the ring twice.
        val e = emu()
        e.admin("POST", "/reset")
        val version = mendianVersion()
        class BusyLogger : MendianLogger {
            @Volatile var nested = 0
            override fun log(exchange: HttpExchange) {
                repeat(300) { i ->
                    assertEquals(version, mendianVersion(), "nested result")
                    validateSearchMapPoiRequest(SearchMapPoiRequest(districtid = 440105L, keyword = "店$i"))
                    val err = assertThrows<MendianException.InvalidArgument> { validateGetStoreListRequest(GetStoreListRequest(offset = i, limit = 51)) }
                    assertEquals("limit", err.field, "nested error")
                    nested++
                }
            }
        }
        val logger = BusyLogger()
        setMendianLogger(logger, LogLevel.INFO)
        try {
            val wx = wxaClient(e)
            val names = (0 until 3).map { "嵌套调用熟食店$it" }
            for (name in names) {
                val created = wx.createMapPoiBlocking(
                    CreateMapPoiRequest(
                        name = name, longitude = "113.323753357", latitude = "23.0974903107", province = "广东省",
                        city = "广州市", district = "海珠区", address = "新港中路$name", category = "美食:中餐厅",
                        telephone = "020-89190388", photo = "http://mmbiz.qpic.cn/mmbiz_png/a/0",
                        license = "http://mmbiz.qpic.cn/mmbiz_png/b/0", introduct = name, districtid = "440105",
                    ),
                )
                check(created.data.baseId > 0) { "create_map_poi: $created" }
            }
            for (name in names) {
                val found = wx.searchMapPoiBlocking(SearchMapPoiRequest(districtid = 440105L, keyword = name)).data.item
                assertEquals(listOf("新港中路$name"), found.map { it.address }, "search_map_poi for $name")
            }
            val found = runBlocking { wx.searchMapPoi(SearchMapPoiRequest(districtid = 440105L, keyword = "嵌套调用")) }.data.item
            assertEquals(3, found.size, "suspend search_map_poi")
        } finally {
            setMendianLogger(null, LogLevel.INFO)
        }
        check(logger.nested >= 300 * 7) { "the logger ran ${logger.nested / 300} times" }
    }

    s.test("a cancelled coroutine stops the call at once; blocking calls honour timeoutMs") {
        val e = emu()
        e.admin("POST", "/reset")
        val wx = wxaClient(e)
        val request = GetStoreListRequest(offset = 0, limit = 1)
        assertEquals(0, wx.getStoreListBlocking(request).totalCount, "blocking call")
        e.fault("POST /wxa/get_store_list", """{"type":"delay","millis":5000}""")
        val started = System.nanoTime()
        val result = runBlocking { kotlinx.coroutines.withTimeoutOrNull(300) { wx.getStoreList(request) } }
        val tookMs = (System.nanoTime() - started) / 1_000_000
        assertEquals(null, result, "cancelled by withTimeout")
        check(tookMs < 2000) { "cancelling waited for the server: $tookMs ms" }
        assertEquals(0, wx.getStoreListBlocking(request).totalCount, "the client keeps working")

        val slow = WxaClient(
            WxaConfig(
                appid = e.profileValue("wxa_appid"),
                options = ClientOptions(baseUrl = e.profileValue("wxa_base_url"), backupBaseUrl = "", timeoutMs = 300UL, maxRetries = 0U, language = "kotlin"),
            ),
            wxaStableTokenProvider(e.profileValue("wxa_appid"), e.profileValue("wxa_secret"), e.profileValue("wxa_base_url")),
            null,
        )
        slow.getStoreListBlocking(request)
        e.fault("POST /wxa/get_store_list", """{"type":"delay","millis":3000}""")
        val t0 = System.nanoTime()
        assertThrows<MendianException.Timeout> { slow.getStoreListBlocking(request) }
        check((System.nanoTime() - t0) / 1_000_000 < 2500) { "the blocking call outlived timeoutMs" }
    }

    s.test("wxa onboarding with safe-mode pushes verified by WxaPushReceiver") {
        val e = emu()
        e.admin("POST", "/reset")
        withCallback(e, "safe") { cb ->
            val wx = wxaClient(e)
            runBlocking {
                val cats = wx.getMerchantCategory(GetMerchantCategoryRequest()).data.allCategoryInfo.categories
                val second = cats.first { it.level == MerchantCategoryLevel.Second }
                assertEquals("便利店", second.name, "second-level category")
                val head = wx.uploadMedia(pngUpload())
                check(head.mediaId.isNotEmpty() && head.type == WxaMediaType.Image) { "upload: $head" }
                val licence = wx.uploadMedia(pngUpload())
                wx.applyMerchant(applyRequest(head.mediaId, first = second.father!!, second = second.id, qualification = licence.mediaId))

                var push = cb.nextPush()
                check(push.encrypted && !push.usedPreviousKey) { "safe mode: $push" }
                val merchant = eventOf<WxaEvent.ApplyMerchantAudit>(push).event
                assertEquals(ApplyMerchantAuditEventStatus.Approved, merchant.status, "merchant audit")
                assertEquals(e.profileValue("wxa_original_id"), merchant.toUserName, "ToUserName")
                val audit = wx.getMerchantAuditInfo(GetMerchantAuditInfoRequest()).data
                assertEquals(merchant.auditId to MerchantAuditStatus.Approved, audit.auditId to audit.status, "get_merchant_audit_info")

                val tree = wx.getDistrictTree()
                check(tree.isNotEmpty() && tree.all { p -> p.cities.isNotEmpty() && p.cities.all { it.districts.isNotEmpty() } }) { "tree: $tree" }
                val guangdong = tree.first { it.province.fullname == "广东省" }
                val guangzhou = guangdong.cities.first { it.city.fullname == "广州市" }
                val haizhu = guangzhou.districts.first { it.fullname == "海珠区" }
                assertEquals("440105", haizhu.id, "district id")

                val created = wx.createMapPoi(
                    CreateMapPoiRequest(
                        name = "龙涤小区熟食店", longitude = "113.323753357", latitude = "23.0974903107",
                        province = guangdong.province.fullname, city = guangzhou.city.fullname, district = haizhu.fullname,
                        address = "怡安路172号", category = "美食:中餐厅", telephone = "020-89190388",
                        photo = "http://mmbiz.qpic.cn/mmbiz_png/a/0", license = "http://mmbiz.qpic.cn/mmbiz_png/b/0",
                        introduct = "熟食店", districtid = haizhu.id,
                    ),
                )
                val poi = eventOf<WxaEvent.CreateMapPoiAudit>(cb.nextPush()).event
                assertEquals(created.data.baseId, poi.auditId, "map POI audit id = base_id")
                assertEquals(MapPoiAuditStatus.Approved, poi.status, "map POI audit")
                val found = wx.searchMapPoi(SearchMapPoiRequest(districtid = haizhu.id.toLong(), keyword = "熟食"))
                assertEquals(listOf(poi.mapPoiId), found.data.item.map { it.sosomapPoiUid }, "search_map_poi")

                val added = wx.addStore(storeRequest(poi.mapPoiId))
                val storeEvent = eventOf<WxaEvent.AddStoreAudit>(cb.nextPush()).event
                assertEquals(added.data.auditId, storeEvent.auditId, "store audit id")
                assertEquals(StoreAuditEventStatus.Approved, storeEvent.status, "store audit")
                val poiId = storeEvent.poiid ?: throw AssertionFailed("no poiid in $storeEvent")

                var info = wx.getStoreInfo(GetStoreInfoRequest(poiId = poiId)).business.baseInfo
                assertEquals(poiId, info.poiId, "get_store_info poi_id")
                assertEquals("10:00-21:00", info.openTime, "open time")
                assertEquals(StoreAuditStatus.Approved, info.status, "store status")
                assertEquals(listOf(poiId), wx.getAllStores().map { it.baseInfo.poiId }, "get_all_stores")

                assertEquals(false, wx.updateStore(updateRequest(poiId, hour = "08:00-20:00", pics = listOf(WXA_PIC_1))).data.hasAuditId, "same pictures")
                val updated = wx.updateStore(updateRequest(poiId))
                assertEquals(true, updated.data.hasAuditId, "new pictures need an audit")
                push = cb.nextPush()
                assertEquals(updated.data.auditId, eventOf<WxaEvent.ModifyStoreAudit>(push).event.auditId, "modify audit id")
                info = wx.getStoreInfo(GetStoreInfoRequest(poiId = poiId)).business.baseInfo
                assertEquals("09:00-22:00", info.openTime, "updated open time")
                assertEquals(listOf(WXA_PIC_2), info.photoList?.map { it.photoUrl }, "updated pictures")

                wx.setStoreCard(SetStoreCardRequest(poiId = poiId.toLong(), cardId = "pabcedfg1234567hijklmn"))
                assertEquals("pabcedfg1234567hijklmn", wx.getStoreCard(GetStoreCardRequest(poiId = poiId.toLong())).cardId, "store card")

                wx.delStore(DelStoreRequest(poiId = poiId))
                val gone = assertThrows<MendianException.Api> { runBlocking { wx.getStoreInfo(GetStoreInfoRequest(poiId = poiId)) } }
                assertEquals("65115", gone.code, "deleted store")
                assertEquals(emptyList<StoreBusiness>(), wx.getAllStores(), "no stores left")
            }
            assertEquals(emptyList<Throwable>(), cb.errors.toList(), "rejected pushes")
            val state = e.wxaStateWithPushes(4)
            val events = Regex("\"event\":\"([a-z_]+)\"").findAll(state).map { it.groupValues[1] }.toList()
            assertEquals(listOf("apply_merchant_audit_info", "create_map_poi_audit_info", "add_store_audit_info", "modify_store_audit_info"), events, "pushed events")
            assertEquals(4, Regex("\"answer\":\"success\"").findAll(state).count(), "callback answers: $state")
            assertEquals(4, Regex("\"status\":200").findAll(state).count(), "callback statuses: $state")
            assertEquals(1L, e.tokenFetches(), "token fetches")
        }
    }

    s.test("a wxa token provider implemented in Kotlin (the backend holds the secret)") {
        val e = emu()
        e.admin("POST", "/reset")
        val provider = BackendTokenProvider(e)
        val wx = wxaClient(e, provider = provider)
        runBlocking {
            wx.getMerchantCategory(GetMerchantCategoryRequest())
            wx.getStoreList(GetStoreListRequest(offset = 0, limit = 10))
            assertEquals(1, provider.calls, "provider calls before expiry")
            e.fault("*", """{"type":"wxa_expire_tokens"}""")
            wx.getStoreList(GetStoreListRequest(offset = 0, limit = 10))
        }
        assertEquals(2, provider.calls, "provider calls")
        assertEquals(listOf(false, false), provider.forced.toList(), "force_refresh")
        assertEquals(2L, e.tokenFetches(), "token fetches")
        val requests = e.admin("GET", "/requests?platform=wxa")
        assertEquals(2, e.sentTo("get_stable_access_token"), "token requests")
        assertEquals(2, Regex("our-backend/1.0").findAll(requests).count(), "token requests made by the backend")
        assertEquals(4, Regex("mendian/[^\"]*\\(kotlin\\)").findAll(requests).count(), "SDK calls: category, list, list (42001), list")
        assertEquals(0, Regex(Regex.escape(e.profileValue("wxa_secret"))).findAll(requests).count(), "the emulator's log never shows the secret (redacted)")
        check(Regex("secret[^<]{0,8}<redacted>").containsMatchIn(requests)) { "the backend's token requests carry it, redacted in the log" }
    }

    s.test("a wxa token store implemented in Kotlin, shared by two servers") {
        val e = emu()
        e.admin("POST", "/reset")
        val store = SharedTokenStore()
        val first = wxaClient(e, store = store)
        val secondProvider = BackendTokenProvider(e)
        val second = wxaClient(e, provider = secondProvider, store = store)
        runBlocking {
            first.getStoreList(GetStoreListRequest(offset = 0, limit = 1))
            assertEquals(1L to 1, e.tokenFetches() to store.saves, "fetches and saves after the first server")
            second.getStoreList(GetStoreListRequest(offset = 0, limit = 1))
            assertEquals(1L, e.tokenFetches(), "the second server must use the stored token")
            assertEquals(0, secondProvider.calls, "second provider calls")
            val token = store.tokens.getValue(e.profileValue("wxa_appid")).accessToken
            e.fault("*", """{"type":"wxa_expire_tokens"}""")
            second.getStoreList(GetStoreListRequest(offset = 0, limit = 1))
            assertEquals(listOf(token), store.invalidated.toList(), "invalidated")
            assertEquals(1, secondProvider.calls, "second provider refreshed once")
            first.getStoreList(GetStoreListRequest(offset = 0, limit = 1))
            assertEquals(2L to 2, e.tokenFetches() to store.saves, "the first server uses the refreshed token")
        }
    }

    s.test("the Redis token store: two servers share one token; the password never prints") {
        val e = emu()
        e.admin("POST", "/reset")
        RedisServer().use { redis ->
            val options = WxaRedisStoreOptions(password = "never-printed")
            check(!options.toString().contains("never-printed")) { options.toString() }
            // Two stores, as two processes of a fleet would have (no password on this server).
            val first = wxaClient(e, store = wxaRedisTokenStore(redis.url, "kotlin-test:"))
            val second = wxaClient(e, store = wxaRedisTokenStore(redis.url, "kotlin-test:"))
            repeat(5) {
                first.getStoreListBlocking(GetStoreListRequest(offset = 0, limit = 1))
                runBlocking { second.getStoreList(GetStoreListRequest(offset = 0, limit = 1)) }
            }
            assertEquals(1L, e.tokenFetches(), "one token fetch for both servers")
            e.fault("*", """{"type":"wxa_expire_tokens"}""")
            second.getStoreListBlocking(GetStoreListRequest(offset = 0, limit = 1))
            first.getStoreListBlocking(GetStoreListRequest(offset = 0, limit = 1))
            assertEquals(2L, e.tokenFetches(), "one refresh after the token expired")
        }
    }

    s.test("a wxa token that expires mid-flow is recovered with exactly one refresh") {
        val e = emu()
        e.admin("POST", "/reset")
        val wx = wxaClient(e)
        val list = runBlocking {
            wx.getStoreList(GetStoreListRequest(offset = 0, limit = 10))
            e.fault("*", """{"type":"wxa_expire_tokens"}""")
            wx.getStoreList(GetStoreListRequest(offset = 0, limit = 10))
        }
        assertEquals(0, list.totalCount, "total count")
        val state = e.admin("GET", "/wxa")
        assertEquals(2L to 2L, jsonNumber(state, "token_fetches") to jsonNumber(state, "tokens_issued"), "fetches and issued")
        assertEquals(3, e.sentTo("get_store_list"), "get_store_list sent (once, 42001, retried)")
    }

    s.test("wxa -1 (system busy) on a transient call is retried and succeeds") {
        val e = emu()
        e.admin("POST", "/reset")
        e.fault("POST /wxa/get_store_list", """{"type":"wxa_errcode","errcode":-1,"errmsg":""}""")
        val list = runBlocking { wxaClient(e).getStoreList(GetStoreListRequest(offset = 0, limit = 10)) }
        assertEquals(0, list.totalCount, "total count")
        assertEquals(2, e.sentTo("get_store_list"), "get_store_list sent")
        assertEquals("[]", e.admin("GET", "/faults"), "fault consumed")
    }

    s.test("wxa 45009 surfaces as Api with the spec's description and is not retried") {
        val e = emu()
        e.admin("POST", "/reset")
        e.fault("POST /wxa/get_store_list", """{"type":"wxa_errcode","errcode":45009,"errmsg":""}""")
        val err = assertThrows<MendianException.Api> { runBlocking { wxaClient(e).getStoreList(GetStoreListRequest(offset = 0, limit = 10)) } }
        assertEquals("45009", err.code, "code")
        assertEquals(Platform.WXA, err.platform, "platform")
        assertEquals("reach max api daily quota limit", err.description, "description")
        assertEquals(false, err.retryable, "retryable")
        check(err.requestId != null) { "no rid read from errmsg" }
        assertEquals(1, e.sentTo("get_store_list"), "get_store_list sent")
    }

    val badInputs: List<Triple<String, String, suspend (WxaClient) -> Unit>> = listOf(
        Triple("get_store_list limit 51", "limit") { wx -> wx.getStoreList(GetStoreListRequest(offset = 0, limit = 51)) },
        Triple("nickname too short", "nickname") { wx -> wx.applyMerchant(applyRequest(nickname = "门a")) },
        Triple("nickname too wide in CJK", "nickname") { wx -> wx.applyMerchant(applyRequest(nickname = "门".repeat(16))) },
        Triple("hour 9:00-21:00 in add_store", "hour") { wx -> wx.addStore(storeRequest(hour = "9:00-21:00")) },
        Triple("hour 9:00-21:00 in update_store", "hour") { wx -> wx.updateStore(updateRequest("472600001", hour = "9:00-21:00")) },
        Triple("a GIF to upload_media", "media") { wx -> wx.uploadMedia(UploadMediaRequest(type = WxaMediaType.Image, media = TINY_GIF)) },
        Triple("an empty file to upload_media", "media") { wx -> wx.uploadMedia(UploadMediaRequest(type = WxaMediaType.Image, media = ByteArray(0))) },
        Triple("a non-URL in pic_list", "pic_list.list[1]") { wx -> wx.addStore(storeRequest(pics = listOf(WXA_PIC_1, "not a url"))) },
    )
    for ((name, field, call) in badInputs) {
        s.test("bad wxa input is rejected and nothing is sent: $name") {
            val e = emu()
            e.admin("POST", "/reset")
            val wx = wxaClient(e)
            val before = e.admin("GET", "/requests")
            val err = assertThrows<MendianException.InvalidArgument> { runBlocking { call(wx) } }
            assertEquals(field, err.field, "field")
            assertEquals(before, e.admin("GET", "/requests"), "recorded requests")
            assertEquals(0L, e.tokenFetches(), "token fetches")
        }
    }

    s.test("wxa plain-mode pushes are verified; a changed signature raises Signature") {
        val e = emu()
        e.admin("POST", "/reset")
        withCallback(e, "plain") { cb ->
            val wx = wxaClient(e)
            runBlocking { wx.applyMerchant(applyRequest(wx.uploadMedia(pngUpload()).mediaId)) }
            val push = cb.nextPush()
            check(!push.encrypted) { "plain mode: $push" }
            assertEquals(ApplyMerchantAuditEventStatus.Approved, eventOf<WxaEvent.ApplyMerchantAudit>(push).event.status, "status")
            val state = e.wxaStateWithPushes(1)
            check(state.contains("\"answer\":\"success\"") && state.contains("\"status\":200")) { "callback did not answer success: $state" }
            val (query, body) = cb.raw.single()
            check("encrypt_type" !in query) { "plain push with encrypt_type: $query" }
            val plain = pushReceiver(e, safe = false)
            assertEquals(push.event, plain.receive(query, body).event, "receive again")
            val tampered = query + ("signature" to changedLast(query.getValue("signature")))
            assertThrows<MendianException.Signature> { plain.receive(tampered, body) }
            assertThrows<MendianException.Signature> { plain.receive(query + ("timestamp" to (query.getValue("timestamp").toLong() + 1).toString()), body) }
            assertThrows<MendianException.Signature> { plain.receive(query - "signature", body) }
            assertThrows<MendianException.Signature> { pushReceiver(e).receive(tampered, body) }
            // The same push again is a replay; a receiver with an EncodingAESKey refuses plain
            // mode even with a genuine signature (it does not cover the body).
            val replay = assertThrows<MendianException.Signature> { plain.receive(query, body) }
            check(replay.reason.contains("replayed")) { replay.reason }
            val forged = body.replace("<status>1</status>", "<status>3</status>")
            val refused = assertThrows<MendianException.Signature> { pushReceiver(e).receive(query, forged) }
            check(refused.reason.contains("plain-mode push was refused")) { refused.reason }
        }
    }

    s.test("tampered safe-mode wxa pushes raise Signature") {
        val e = emu()
        e.admin("POST", "/reset")
        withCallback(e, "safe") { cb ->
            val wx = wxaClient(e)
            runBlocking { wx.applyMerchant(applyRequest(wx.uploadMedia(pngUpload()).mediaId)) }
            val push = cb.nextPush()
            check(push.encrypted) { "safe mode: $push" }
            val (query, body) = cb.raw.single()
            assertEquals("aes", query["encrypt_type"], "encrypt_type")
            val safe = pushReceiver(e)
            assertEquals(push.event, safe.receive(query, body).event, "receive again")
            assertThrows<MendianException.Signature> { safe.receive(query + ("msg_signature" to changedLast(query.getValue("msg_signature"))), body) }
            assertThrows<MendianException.Signature> { safe.receive(query + ("signature" to "0".repeat(40)), body) }
            val start = body.indexOf("<Encrypt><![CDATA[") + "<Encrypt><![CDATA[".length
            val flipped = body.substring(0, start) + (if (body[start] == 'B') 'C' else 'B') + body.substring(start + 1)
            assertThrows<MendianException.Signature> { safe.receive(query, flipped) }
            assertThrows<MendianException.Signature> { safe.receive(query - "msg_signature", body) }
        }
    }

    s.test("wxa URL verification answers the echostr") {
        val e = emu()
        e.admin("POST", "/reset")
        withCallback(e, "safe") { cb ->
            val token = e.profileValue("wxa_push_token")
            val (timestamp, nonce, echostr) = Triple((System.currentTimeMillis() / 1000).toString(), "486452656", "5837397520138328391")
            val plain = mapOf("signature" to sha1Signature(token, timestamp, nonce), "timestamp" to timestamp, "nonce" to nonce, "echostr" to echostr)
            assertEquals(echostr, pushReceiver(e, safe = false).verifyUrl(plain), "plain verify_url")
            fun get(q: Map<String, String>): Pair<Int, String> {
                val qs = q.entries.joinToString("&") { "${URLEncoder.encode(it.key, "UTF-8")}=${URLEncoder.encode(it.value, "UTF-8")}" }
                val conn = URI("${cb.url}?$qs").toURL().openConnection() as HttpURLConnection
                val text = (if (conn.responseCode >= 400) conn.errorStream else conn.inputStream).use { it.readBytes().decodeToString() }
                return conn.responseCode to text
            }
            assertEquals(200 to echostr, get(plain), "GET to the server URL")
            assertEquals(403, get(plain + ("nonce" to "1")).first, "GET with a wrong signature")
            assertThrows<MendianException.Signature> { pushReceiver(e).verifyUrl(plain + ("signature" to sha1Signature(token, timestamp, "1"))) }

            val encrypted = wxaPushEncryptWithRandom(e.profileValue("wxa_encoding_aes_key"), e.profileValue("wxa_appid"), "0123456789abcdef".toByteArray(), echostr)
            val safe = mapOf("msg_signature" to sha1Signature(token, timestamp, nonce, encrypted), "timestamp" to timestamp, "nonce" to nonce, "echostr" to encrypted)
            assertEquals(echostr, pushReceiver(e).verifyUrl(safe), "safe verify_url")
            assertThrows<MendianException.Signature> { pushReceiver(e).verifyUrl(safe + ("msg_signature" to sha1Signature(token, timestamp, nonce, echostr))) }
        }
    }
}
