"""No credential ever shows in str(), repr(), f-strings, containers or error messages of
anything that holds one: configs, tokens, push settings, the token endpoints' records,
clients, signers and providers."""

import mendian
import pytest

SECRET = "S3CRET-value-that-must-not-show"


def holders():
    options = mendian.ClientOptions(base_url="http://127.0.0.1:9", backup_base_url="")
    return {
        "ClientOptions with a proxy password": mendian.ClientOptions(proxy_url=f"http://user:{SECRET}@proxy.example:3128"),
        "WechatpayConfig": mendian.WechatpayConfig(mchid="1900000109", merchant_serial_no="SERIAL", apiv3_key=SECRET, options=options),
        "TopConfig": mendian.TopConfig(app_key="12345678", session=SECRET, options=options),
        "WxaAccessToken": mendian.WxaAccessToken(access_token=SECRET, expires_in=7200),
        "WxaStoredToken": mendian.WxaStoredToken(access_token=SECRET, expires_at=1_900_000_000),
        "TopSignRequest": mendian.TopSignRequest(sign_method=mendian.TopSignMethod.HMAC_SHA256, api_name="x",
                                                 params={"session": SECRET}, canonical="session" + SECRET),
        "WxaPushConfig": mendian.WxaPushConfig(token=SECRET, encoding_aes_key=SECRET, previous_encoding_aes_key=SECRET, appid="wx1"),
        "GetStableAccessTokenRequest": mendian.GetStableAccessTokenRequest(grant_type="client_credential", appid="wx1", secret=SECRET),
        "GetAccessTokenRequest": mendian.GetAccessTokenRequest(grant_type="client_credential", appid="wx1", secret=SECRET),
        "GetStableAccessTokenResponse": mendian.GetStableAccessTokenResponse(access_token=SECRET, expires_in=7200),
        "GetAccessTokenResponse": mendian.GetAccessTokenResponse(access_token=SECRET, expires_in=7200),
        "top signer": mendian.top_app_secret_signer(SECRET),
        "stable provider": mendian.wxa_stable_token_provider("wx1", SECRET, None),
        "classic provider": mendian.wxa_classic_token_provider("wx1", SECRET, None),
        "TopClient": mendian.TopClient(mendian.TopConfig(app_key="12345678", session=SECRET, options=options), mendian.top_app_secret_signer(SECRET)),
        "WxaPushReceiver": mendian.WxaPushReceiver(mendian.WxaPushConfig(token=SECRET, appid="wx1")),
        # Records without a credential of their own, holding one that has.
        "WxaConfig with a proxy password": mendian.WxaConfig(
            appid="wx1", options=mendian.ClientOptions(proxy_url=f"http://user:{SECRET}@proxy.example:3128")),
    }


@pytest.mark.parametrize("name", list(holders()))
def test_no_credential_in_any_printed_form(name):
    value = holders()[name]
    for shown in (str(value), repr(value), f"{value}", f"{value!r}", str([value]), str({"k": value})):
        assert SECRET not in shown, f"{name}: {shown}"


def test_a_client_the_accelerator_has_used_prints_nothing_more():
    # The accelerator keeps the Rust client on the Python object (`_mendian_client`) after the
    # first call; neither the object nor what it keeps shows the session.
    client = holders()["TopClient"]
    with pytest.raises(TypeError):  # refused while reading the request: nothing is sent
        client.worker_delete(mendian.WorkerDeleteRequest(phone="not a number"))
    kept = client._mendian_client
    for shown in (str(client), repr(client), str(vars(client)), repr(kept), str(kept)):
        assert SECRET not in shown, shown


def test_records_still_show_their_other_fields_and_whether_a_secret_is_set():
    config = holders()["WechatpayConfig"]
    assert "1900000109" in repr(config) and "apiv3_key" in repr(config) and "<redacted>" in repr(config)
    assert "wx1" in str(holders()["GetStableAccessTokenRequest"])
    # Records still compare by value.
    assert holders()["WxaAccessToken"] == mendian.WxaAccessToken(access_token=SECRET, expires_in=7200)


def test_errors_from_bad_credentials_do_not_echo_them():
    with pytest.raises(mendian.MendianError) as info:
        mendian.wechatpay_pem_signer("-----BEGIN PRIVATE KEY-----\n" + SECRET + "\n-----END PRIVATE KEY-----\n")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)



class CollectingLogger(mendian.MendianLogger):
    def __init__(self):
        self.exchanges = []

    def log(self, exchange):
        self.exchanges.append(exchange)


def test_the_logger_sees_every_exchange_without_credentials(fresh):
    p = fresh.profile
    logger = CollectingLogger()
    mendian.set_mendian_logger(logger, mendian.LogLevel.INFO)
    try:
        wx = mendian.WxaClient(
            mendian.WxaConfig(appid=p["wxa_appid"], options=mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url="")),
            mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"]))
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))
        fresh.admin("POST", "/faults", {"route": "POST /wxa/get_store_list",
                                        "kind": {"type": "status", "status": 503, "body": "busy"}, "times": 1})
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))   # 503, then repeated
    finally:
        mendian.set_mendian_logger(None, mendian.LogLevel.INFO)
    paths = [e.url.split("?")[0].rsplit("/", 2)[-2:] for e in logger.exchanges]
    assert ["cgi-bin", "stable_token"] in paths and ["wxa", "get_store_list"] in paths, paths
    assert [(e.status, e.level) for e in logger.exchanges if e.status != 200] == [(503, mendian.LogLevel.WARN)]
    for e in logger.exchanges:
        assert e.method == "POST" and e.error is None, e
        assert e.latency_ms >= 0
        for secret in (p["wxa_secret"], wx.access_token()):
            assert secret not in str(e), e
    assert any("access_token=<redacted>" in e.url for e in logger.exchanges)
    count = len(logger.exchanges)
    wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=1))
    assert len(logger.exchanges) == count, "removed loggers see nothing"


def test_every_record_repr_shows_its_fields():
    # Records without a credential get `Name(field=value, …)`, not the empty `Name()` of a
    # dataclass without declared fields.
    assert repr(mendian.GetStoreListRequest(offset=0, limit=1)) == "GetStoreListRequest(offset=0, limit=1)"
    shown = repr(mendian.WxaConfig(appid="wx1", options=mendian.ClientOptions(proxy_url=f"http://user:{SECRET}@proxy.example:3128")))
    assert shown.startswith("WxaConfig(appid='wx1', options=ClientOptions {") and "token_lock_ttl_ms=" in shown, shown
    assert repr(mendian.AddressDto(address_detail="22", address_names=["222"])) == "AddressDto(address_detail='22', address_names=['222'])"
    for name in dir(mendian):
        cls = getattr(mendian, name)
        if isinstance(cls, type) and hasattr(cls, "__dataclass_fields__"):
            assert cls.__repr__ is not object.__repr__, name
