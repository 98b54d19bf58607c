//! The test credentials the harnesses use, all public test material from `tests/vectors/`
//! (never a real merchant's): the WeChat Pay platform key pair that signs answers and
//! notifications, a merchant key, a fixed APIv3 key, and the EncodingAESKeys of the official
//! message-push samples; and the WeChat Pay client built from them once per process.

use std::sync::{Arc, OnceLock};

use mendian::crypto::RsaPrivateKey;
use mendian::wechatpay::{wechatpay_pem_signer, WechatpayClient, WechatpayConfig};

/// The WeChat Pay platform private key: the harness signs answers and notifications with it.
pub const PLATFORM_PRIVATE_KEY_PEM: &str =
    include_str!("../../tests/vectors/wechatpay/keys/wechat_pay_private_key.pem");
/// Its public half, configured in the client (public-key mode).
pub const PLATFORM_PUBLIC_KEY_PEM: &str = include_str!("../../tests/vectors/wechatpay/keys/wechat_pay_public_key.pem");
/// The merchant's private key (the client signs requests and decrypts answer fields with it).
pub const MERCHANT_PRIVATE_KEY_PEM: &str = include_str!("../../tests/vectors/wechatpay/keys/merchant_private_key.pem");
/// The public key id the client trusts; answers name it in `Wechatpay-Serial`.
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000000000";
/// The APIv3 key notifications are encrypted with (32 bytes).
pub const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// The client's clock (Unix seconds): answers are signed at this time.
pub const NOW: i64 = 1_700_000_000;

/// The Token of the push receiver.
pub const WXA_TOKEN: &str = "QDG6eK";
/// The AppID every decrypted push must end with.
pub const WXA_APPID: &str = "wxb11529c136998cb6";
/// The current EncodingAESKey (the official sample's).
pub const WXA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
/// Its 32 AES key bytes (base64 of the 43 characters plus `=`); the harness checks them
/// against mendian's own encryption once per process.
pub const WXA_KEY_BYTES: [u8; 32] = hex32("69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051");
/// The previous EncodingAESKey (a key rotation is in progress).
pub const WXA_PREVIOUS_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
/// Its 32 AES key bytes.
pub const WXA_PREVIOUS_KEY_BYTES: [u8; 32] = hex32("8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lower-case hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// The platform private key, parsed once.
pub fn platform_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::from_pem(PLATFORM_PRIVATE_KEY_PEM).expect("the platform test key parses"))
}

/// The base64 `Wechatpay-Signature` WeChat Pay would send for `body` at `timestamp` with
/// `nonce`: RSA-SHA256 over `timestamp\nnonce\nbody\n`, as the APIv3 documents define it.
pub fn sign_answer(timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    mendian::crypto::b64(&platform_key().sign_sha256(&message).expect("signing with the test key works"))
}

/// A direct-merchant WeChat Pay client in public-key mode with the APIv3 key, its clock fixed
/// at [`NOW`]. Built once: creating the HTTP client is far slower than what is fuzzed.
pub fn wechatpay_client() -> &'static Arc<WechatpayClient> {
    static CLIENT: OnceLock<Arc<WechatpayClient>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut config = WechatpayConfig::new("1900000001", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115");
        config.apiv3_key = Some(APIV3_KEY.into());
        config.wechatpay_public_key_id = Some(PUBLIC_KEY_ID.into());
        config.wechatpay_public_key_pem = Some(PLATFORM_PUBLIC_KEY_PEM.into());
        let signer = wechatpay_pem_signer(MERCHANT_PRIVATE_KEY_PEM.into()).expect("the merchant test key parses");
        WechatpayClient::new(config, signer).expect("the test configuration is valid").set_clock(Arc::new(|| NOW))
    })
}
