// The Kotlin suite, run on the JVM against the generated bindings and the built library:
// request records and validation, the spec catalog, and the emulator's admin API.
package mendian.tests

import mendian.*
import kotlin.system.exitProcess

const val GUIDE_ID = "LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic"

fun update(
    name: String? = null,
    mobile: String? = null,
    avatar: String? = null,
) = UpdateGuideRequest(guideId = GUIDE_ID, name = name, mobile = mobile, avatar = avatar)

fun main() {
    val s = Suite()

    s.test("the document's update example is valid") {
        validateUpdateGuideRequest(
            UpdateGuideRequest(
                guideId = GUIDE_ID,
                name = "张三",
                mobile = "13900000000",
                qrCode = "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx",
                avatar = "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0",
                groupQrcode = "http://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0",
            ),
        )
    }

    s.test("Java callers see MendianException declared on every blocking call and on validation") {
        // Kotlin has no checked exceptions; Java needs `throws` (from @Throws) to catch one.
        val classes = listOf(WxaClient::class.java, WechatpayClient::class.java, TopClient::class.java)
        var blocking = 0
        for (c in classes) {
            for (m in c.declaredMethods.filter { it.name.endsWith("Blocking") }) {
                check(MendianException::class.java in m.exceptionTypes) { "${c.simpleName}.${m.name} declares ${m.exceptionTypes.toList()}" }
                blocking++
            }
        }
        check(blocking >= 20) { "only $blocking blocking methods found" }
        val validate = Class.forName("mendian.MendianKt").declaredMethods.first { it.name == "validateUpdateGuideRequest" }
        check(MendianException::class.java in validate.exceptionTypes) { "validateUpdateGuideRequest declares ${validate.exceptionTypes.toList()}" }
    }

    s.test("a too-long field raises InvalidArgument naming it") {
        val e = assertThrows<MendianException.InvalidArgument> {
            validateUpdateGuideRequest(update(avatar = "https://x/" + "a".repeat(1015)))
        }
        assertEquals("avatar", e.field, "field")
        check(e.reason.contains("at most 1024 characters (got 1025)")) { e.reason }
    }

    s.test("encrypted fields are limited before encryption") {
        val e = assertThrows<MendianException.InvalidArgument> { validateUpdateGuideRequest(update(name = "张".repeat(22))) }
        assertEquals("name", e.field, "field")
        check(e.reason.contains("64 bytes")) { e.reason }
        validateUpdateGuideRequest(update(name = "张".repeat(21)))
    }

    s.test("emoji are rejected as WeChat Pay does") {
        val e = assertThrows<MendianException.InvalidArgument> { validateUpdateGuideRequest(update(name = "张三\uD83D\uDE00")) }
        assertEquals("name", e.field, "field")
        check(e.reason.contains("U+1F600")) { e.reason }
    }

    s.test("wxa nickname counts a CJK character as two") {
        fun apply(nickname: String) = ApplyMerchantRequest(
            firstCatid = 476, secondCatid = 477, headimgMediaid = "MEDIA", nickname = nickname, intro = "门店介绍",
        )
        validateApplyMerchantRequest(apply("门店"))
        val e = assertThrows<MendianException.InvalidArgument> { validateApplyMerchantRequest(apply("门a")) }
        assertEquals("nickname", e.field, "field")
    }

    s.test("a bad item inside pic_list is named with its index") {
        val e = assertThrows<MendianException.InvalidArgument> {
            validateAddStoreRequest(
                AddStoreRequest(
                    mapPoiId = "2880741500279549033",
                    picList = StorePicList(list = listOf("http://mmbiz.qpic.cn/a/0", "not a url")),
                    contractPhone = "020-89190388",
                    hour = "10:00-21:00",
                    credential = "22883878-0",
                    cardId = "",
                ),
            )
        }
        assertEquals("pic_list.list[1]", e.field, "field")
    }

    s.test("get_store_list limit is at most 50") {
        validateGetStoreListRequest(GetStoreListRequest(offset = 0, limit = 50))
        val e = assertThrows<MendianException.InvalidArgument> { validateGetStoreListRequest(GetStoreListRequest(offset = 0, limit = 51)) }
        assertEquals("limit", e.field, "field")
    }

    s.test("TOP worker fields are checked inside the nested record") {
        validateWorkerUpdateRequest(
            WorkerUpdateRequest(worker = WorkerDto(name = "张三", phone = 1234567890L, registerTime = "2016-06-28 10:30:00")),
        )
        val e = assertThrows<MendianException.InvalidArgument> {
            validateWorkerUpdateRequest(WorkerUpdateRequest(worker = WorkerDto(registerTime = "2016/06/28 10:30")))
        }
        assertEquals("worker.register_time", e.field, "field")
    }

    if (System.getProperty("mendian.libraryFromJar") == "true") {
        s.test("the native library is the one inside the jar") {
            // JNA looks on jna.library.path and the system paths before the classpath; a stray
            // libmendian.so there would be tested instead of the packaged one.
            val file = com.sun.jna.NativeLibrary.getInstance("mendian").file
            check(file != null && !file.absolutePath.contains("/target/")) { "loaded from ${file?.absolutePath}" }
            assertEquals(mendianVersion(), System.getProperty("mendian.version"), "version")
        }
    }

    s.test("the catalog lists every platform's endpoints") {
        val byId = endpoints().associateBy { it.id }
        assertEquals(28, byId.size, "endpoint count")
        val upd = byId.getValue("update_guide")
        assertEquals(204.toUShort(), upd.successStatus, "success status")
        assertEquals(Platform.WECHATPAY, upd.platform, "platform")
        assertEquals(setOf("name", "mobile"), upd.encryptedFields.toSet(), "encrypted fields")
        assertEquals("tmall.servicecenter.worker.update", byId.getValue("worker_update").apiName, "api name")
    }

    s.test("error meanings come from the documents") {
        val info = describeError("update_guide", "PARAM_ERROR", null, "个人微信商家不能改二维码")
        assertEquals("个人微信商家不能改二维码", info?.description, "description")
        assertEquals(false, info?.retryable, "retryable")
        assertEquals("工人不存在", describeError("worker_update", "10006", null, "")?.description, "TOP business code")
        assertEquals(null, describeError("update_guide", "NO_SUCH_CODE", null, ""), "unknown code")
    }

    s.test("the emulator records requests and resets") {
        Emulator(System.getProperty("mendian.emulator")).use { emu ->
            check(emu.profileValue("wxa_base_url").startsWith("http://127.0.0.1:")) { emu.profile }
            emu.admin("POST", "/reset")
            assertEquals("[]", emu.admin("GET", "/requests"), "requests after reset")
            val conn = java.net.URI(emu.profileValue("wxa_base_url") + "/wxa/del_store?access_token=t").toURL().openConnection() as java.net.HttpURLConnection
            conn.requestMethod = "POST"
            conn.doOutput = true
            conn.outputStream.use { it.write("{}".toByteArray()) }
            val answer = conn.inputStream.use { it.readBytes().decodeToString() }
            check(answer.contains("40001")) { answer }
            check(emu.admin("GET", "/requests").contains("\"endpoint\":\"del_store\"")) { "not recorded" }
        }
    }

    s.test("MendianEmulator finds the binary, hides the test keys and names a missing binary") {
        mendian.testing.MendianEmulator().use { emu ->
            check(emu.running) { "not running" }
            emu.reset()
            val shown = emu.toString()
            check(shown.contains(emu.profileValue("admin_url"))) { shown }
            check(!shown.contains(emu.profileValue("wechatpay_apiv3_key"))) { shown }
        }
        val e = assertThrows<mendian.testing.MendianEmulatorNotFound> { mendian.testing.MendianEmulator.find("/nonexistent/mendian-emulator") }
        check(e.message!!.contains("not an executable")) { e.message!! }
    }

    val emulator = lazy { Emulator(System.getProperty("mendian.emulator")) }
    registerTopTests(s) { emulator.value }
    registerWechatpayTests(s) { emulator.value }
    registerWxaTests(s) { emulator.value }
    registerSecretsTests(s) { emulator.value }
    registerLoopTests(s) { emulator.value }
    val failures = s.run()
    if (emulator.isInitialized()) emulator.value.close()
    exitProcess(if (failures == 0) 0 else 1)
}
