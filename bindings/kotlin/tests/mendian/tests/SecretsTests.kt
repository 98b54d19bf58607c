// No credential shows in toString() (nor string templates) of any record or object that
// holds one: configs, tokens, push settings, the token endpoints' records, signers,
// providers, clients.
package mendian.tests

import mendian.*

const val KOTLIN_SECRET = "S3CRET-value-that-must-not-show"

class CollectingLogger : MendianLogger {
    val exchanges = java.util.Collections.synchronizedList(mutableListOf<HttpExchange>())
    override fun log(exchange: HttpExchange) {
        exchanges.add(exchange)
    }
}

fun registerSecretsTests(s: Suite, emu: () -> Emulator) {
    s.test("the logger sees every exchange, with credentials redacted") {
        val e = emu()
        e.admin("POST", "/reset")
        val logger = CollectingLogger()
        setMendianLogger(logger, LogLevel.INFO)
        val wx = wxaClient(e)
        try {
            wx.getStoreListBlocking(GetStoreListRequest(offset = 0, limit = 1))
        } finally {
            setMendianLogger(null, LogLevel.INFO)
        }
        val token = wx.accessTokenBlocking()
        check(logger.exchanges.size >= 2) { "token fetch and call: ${logger.exchanges}" }
        for (x in logger.exchanges) {
            check(!x.toString().contains(token) && !x.toString().contains(e.profileValue("wxa_secret"))) { "credential in $x" }
        }
        check(logger.exchanges.any { it.url.contains("access_token=<redacted>") && it.status == 200.toUShort() }) { "${logger.exchanges}" }
    }

    s.test("credentials never show in toString()") {
        val options = ClientOptions(baseUrl = "http://127.0.0.1:9", backupBaseUrl = "")
        val holders: Map<String, Any> = mapOf(
            "WechatpayConfig" to WechatpayConfig(mchid = "1900000109", merchantSerialNo = "SERIAL", apiv3Key = KOTLIN_SECRET, options = options),
            "TopConfig" to TopConfig(appKey = "12345678", session = KOTLIN_SECRET, options = options),
            "WxaAccessToken" to WxaAccessToken(accessToken = KOTLIN_SECRET, expiresIn = 7200UL),
            "WxaStoredToken" to WxaStoredToken(accessToken = KOTLIN_SECRET, expiresAt = 1_900_000_000L),
            "WxaPushConfig" to WxaPushConfig(token = KOTLIN_SECRET, encodingAesKey = KOTLIN_SECRET, previousEncodingAesKey = KOTLIN_SECRET, appid = "wx1"),
            "GetStableAccessTokenRequest" to GetStableAccessTokenRequest(grantType = "client_credential", appid = "wx1", secret = KOTLIN_SECRET),
            "GetAccessTokenRequest" to GetAccessTokenRequest(grantType = "client_credential", appid = "wx1", secret = KOTLIN_SECRET),
            "GetStableAccessTokenResponse" to GetStableAccessTokenResponse(accessToken = KOTLIN_SECRET, expiresIn = 7200L),
            "GetAccessTokenResponse" to GetAccessTokenResponse(accessToken = KOTLIN_SECRET, expiresIn = 7200L),
            "top signer" to topAppSecretSigner(KOTLIN_SECRET),
            "stable provider" to wxaStableTokenProvider("wx1", KOTLIN_SECRET, null),
            "TopClient" to TopClient(TopConfig(appKey = "12345678", session = KOTLIN_SECRET, options = options), topAppSecretSigner(KOTLIN_SECRET)),
        )
        for ((name, value) in holders) {
            for (shown in listOf(value.toString(), "$value", listOf(value).toString())) {
                check(!shown.contains(KOTLIN_SECRET)) { "$name shows a credential: $shown" }
            }
        }
        val config = holders.getValue("WechatpayConfig").toString()
        check(config.contains("1900000109") && config.contains("<redacted>")) { "other fields still show: $config" }
    }
}
