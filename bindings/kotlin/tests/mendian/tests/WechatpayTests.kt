// WeChat Pay 支付即服务 from Kotlin against the emulator, with a merchant signer implemented
// in Kotlin (java.security), as an app backed by a keystore would: the private key never
// enters the SDK.
package mendian.tests

import kotlinx.coroutines.runBlocking
import mendian.*
import java.security.KeyFactory
import java.security.Signature
import java.security.spec.MGF1ParameterSpec
import java.security.spec.PKCS8EncodedKeySpec
import java.util.Base64
import javax.crypto.Cipher
import javax.crypto.spec.OAEPParameterSpec
import javax.crypto.spec.PSource

class KeystoreLikeSigner(pem: String) : WechatpayMerchantSigner {
    private val key = KeyFactory.getInstance("RSA").generatePrivate(
        PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(pem.lines().filter { !it.startsWith("-----") }.joinToString(""))),
    )
    var signed = 0

    override suspend fun sign(request: WechatpaySignRequest): String {
        signed++
        // Sign only the 支付即服务 calls, over the text rebuilt from the parts.
        check(request.url.startsWith("/v3/smartguide/") || request.url == "/v3/certificates") { "not signing ${request.url}" }
        val message = "${request.method}\n${request.url}\n${request.timestamp}\n${request.nonce}\n${request.body}\n"
        check(message == request.message) { "messages differ" }
        val s = Signature.getInstance("SHA256withRSA")
        s.initSign(key)
        s.update(message.toByteArray())
        return Base64.getEncoder().encodeToString(s.sign())
    }

    override suspend fun decrypt(ciphertextBase64: String): String {
        val c = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding")
        c.init(Cipher.DECRYPT_MODE, key, OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT))
        return String(c.doFinal(Base64.getDecoder().decode(ciphertextBase64)))
    }
}

fun wechatpayClient(emu: Emulator, signer: WechatpayMerchantSigner, publicKeyMode: Boolean = true): WechatpayClient {
    val pem = Regex("\"wechatpay_public_key_pem\":\"([^\"]*)\"").find(emu.profile)!!.groupValues[1].replace("\\n", "\n")
    val config = WechatpayConfig(
        mchid = emu.profileValue("wechatpay_mchid"),
        merchantSerialNo = emu.profileValue("wechatpay_merchant_serial_no"),
        apiv3Key = emu.profileValue("wechatpay_apiv3_key"),
        wechatpayPublicKeyId = if (publicKeyMode) emu.profileValue("wechatpay_public_key_id") else null,
        wechatpayPublicKeyPem = if (publicKeyMode) pem else null,
        options = ClientOptions(baseUrl = emu.profileValue("wechatpay_base_url"), backupBaseUrl = "", language = "kotlin"),
    )
    return WechatpayClient(config, signer)
}

fun merchantKeyPem(emu: Emulator): String =
    Regex("\"wechatpay_merchant_private_key_pem\":\"([^\"]*)\"").find(emu.profile)!!.groupValues[1].replace("\\n", "\n")

fun registerRequest(name: String = "张三", mobile: String = "13900000000") = RegisterGuideRequest(
    corpid = "ww1234567890abcdef",
    storeId = 1234567L,
    userid = "robert",
    name = name,
    mobile = mobile,
    qrCode = "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx",
    avatar = "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0",
)

fun registerWechatpayTests(s: Suite, emu: () -> Emulator) {
    for (publicKeyMode in listOf(true, false)) {
        s.test("WeChat Pay staff lifecycle with a Kotlin signer (${if (publicKeyMode) "public key" else "platform certificates"})") {
            val e = emu()
            e.admin("POST", "/reset")
            val signer = KeystoreLikeSigner(merchantKeyPem(e))
            val wx = wechatpayClient(e, signer, publicKeyMode)
            runBlocking {
                val guide = wx.registerGuide(registerRequest()).guideId
                wx.assignGuide(AssignGuideRequest(guideId = guide, outTradeNo = "1217752501201407033233368018"))
                val found = wx.queryGuides(QueryGuidesRequest(storeId = 1234567L, mobile = "13900000000"))
                assertEquals("张三", found.data.single().name, "decrypted name")
                assertEquals("13900000000", found.data.single().mobile, "decrypted mobile")
                wx.updateGuide(UpdateGuideRequest(guideId = guide, name = "张三丰"))
                assertEquals("张三丰", wx.queryGuides(QueryGuidesRequest(storeId = 1234567L)).data.single().name, "updated name")
            }
            check(signer.signed >= 5) { "the Kotlin signer signed ${signer.signed} requests" }
        }
    }

    s.test("a tampered WeChat Pay answer raises a signature error") {
        val e = emu()
        e.admin("POST", "/reset")
        e.admin("POST", "/faults", """{"route":"POST /v3/smartguide/guides","kind":{"type":"wechatpay_bad_signature"},"times":1}""")
        val wx = wechatpayClient(e, wechatpayPemSigner(merchantKeyPem(e)))
        assertThrows<MendianException.Signature> { runBlocking { wx.registerGuide(registerRequest()) } }
    }

    s.test("bad WeChat Pay input raises InvalidArgument and nothing is sent") {
        val e = emu()
        e.admin("POST", "/reset")
        val wx = wechatpayClient(e, wechatpayPemSigner(merchantKeyPem(e)))
        val err = assertThrows<MendianException.InvalidArgument> { runBlocking { wx.registerGuide(registerRequest(name = "张".repeat(22))) } }
        assertEquals("name", err.field, "field")
        assertEquals("[]", e.admin("GET", "/requests"), "recorded requests")
    }
}
