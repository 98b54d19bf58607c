//! The exported test credentials: the profile publishes exactly these values, and the emulator
//! stays independent of the SDK it cross-checks (no dependency on the `mendian` crate).

use mendian_emulator::credentials::{top, wechatpay, wxa};
use mendian_emulator::{Config, Emulator};

#[tokio::test]
async fn the_profile_publishes_the_exported_credentials() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let p = emu.profile();
    assert_eq!(p.wechatpay_mchid, wechatpay::MCHID);
    assert_eq!(p.wechatpay_merchant_serial_no, wechatpay::MERCHANT_SERIAL);
    assert_eq!(p.wechatpay_merchant_private_key_pem, wechatpay::MERCHANT_PRIVATE_KEY);
    assert_eq!(p.wechatpay_apiv3_key, wechatpay::APIV3_KEY);
    assert_eq!(p.wechatpay_public_key_id, wechatpay::PUBLIC_KEY_ID);
    assert_eq!(p.wechatpay_public_key_pem, wechatpay::PUBLIC_KEY);
    assert_eq!(p.wechatpay_platform_serial_no, wechatpay::PLATFORM_SERIAL);
    assert_eq!(p.wechatpay_store_ids, wechatpay::STORES);
    assert_eq!(p.wxa_appid, wxa::APPID);
    assert_eq!(p.wxa_secret, wxa::SECRET);
    assert_eq!(p.wxa_push_token, wxa::PUSH_TOKEN);
    assert_eq!(p.wxa_encoding_aes_key, wxa::ENCODING_AES_KEY);
    assert_eq!(p.wxa_original_id, wxa::ORIGINAL_ID);
    assert_eq!(p.top_app_key, top::APP_KEY);
    assert_eq!(p.top_app_secret, top::APP_SECRET);
    assert_eq!(p.top_session, top::SESSION);
    // Copies of these values elsewhere (older tests, other languages) rely on them not drifting.
    assert_eq!((wxa::APPID, top::APP_KEY, wechatpay::MCHID), ("wx2f8c5d2e1a9b3c7d", "12345678", "1234567891"));
    emu.stop().await;
}

#[test]
fn the_emulator_does_not_depend_on_the_sdk() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest.split("[dependencies]").nth(1).expect("a [dependencies] table");
    for line in deps.lines().map(str::trim) {
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        assert_ne!(
            name, "mendian",
            "the emulator re-implements the platforms' crypto on purpose; it must not use the SDK: {line}"
        );
    }
}
