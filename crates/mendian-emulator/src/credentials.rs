//! The test credentials the emulator accepts, in one place, for every platform. They are the
//! values [`crate::Profile`] publishes; Rust tests (the SDK's integration tests included)
//! import them from here instead of copying them. None of them is a real secret: the keys are
//! public test keys from `tests/vectors/`, the rest are made-up strings.

/// WeChat Pay APIv3: the emulated merchant and platform.
pub mod wechatpay {
    /// The emulated merchant's 商户号.
    pub const MCHID: &str = "1234567891";
    /// Serial of the emulated merchant's API certificate.
    pub const MERCHANT_SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";
    /// The emulated merchant's private key (a public test key).
    pub const MERCHANT_PRIVATE_KEY: &str =
        include_str!("../../../tests/vectors/wechatpay/keys/merchant_private_key.pem");
    /// The APIv3 key of the emulated merchant.
    pub const APIV3_KEY: &str = "mendianEmulatorApiV3Key000000001";
    /// WeChat Pay public key id of the emulated platform.
    pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_01123456789020241124000000000001";
    /// WeChat Pay public key of the emulated platform.
    pub const PUBLIC_KEY: &str = include_str!("../../../tests/vectors/wechatpay/keys/wechat_pay_public_key.pem");
    /// Serial of the emulated platform certificate (served by `/v3/certificates`).
    pub const PLATFORM_SERIAL: &str = "3A1F0C9E5B7D2468ACE013579BDF2468ACE01357";
    /// Stores (门店) that exist for the emulated merchant.
    pub const STORES: &[i64] = &[1234567, 7654321];
}

/// 门店小程序 (`api.weixin.qq.com`) and its message pushes.
pub mod wxa {
    /// The emulated mini-program's appid.
    pub const APPID: &str = "wx2f8c5d2e1a9b3c7d";
    /// Its AppSecret (a test credential).
    pub const SECRET: &str = "mendian-emulator-wxa-secret";
    /// The message-push Token (服务器配置 Token) the pushes are signed with.
    pub const PUSH_TOKEN: &str = "mendianEmulatorPushToken";
    /// The EncodingAESKey of safe-mode pushes. Like most real keys its last character carries
    /// non-zero trailing bits, so a strict base64 decoder rejects it.
    pub const ENCODING_AES_KEY: &str = "mendianEmulatorEncodingAESKey4wxaPushes2026";
    /// The official account's original id (原始ID), the pushes' `ToUserName`.
    pub const ORIGINAL_ID: &str = "gh_6d656e646961";
    /// The `FromUserName` (an OpenID) of the pushes.
    pub const PUSH_OPENID: &str = "oMdEmu5kq2X9pL4vR8sT1wY6zN3a";
}

/// Taobao Open Platform (TOP).
pub mod top {
    /// The emulator's TOP app key, published in the connection profile.
    pub const APP_KEY: &str = "12345678";
    /// App secret matching [`APP_KEY`].
    pub const APP_SECRET: &str = "mendian-emulator-top-secret";
    /// The authorised session the emulator accepts.
    pub const SESSION: &str = "mendian-emulator-session";
}
