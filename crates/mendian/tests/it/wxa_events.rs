//! WeChat message-push security and the 门店小程序 audit events, against the official samples'
//! known answers (`tests/vectors/wechat_message_crypto.json`) and the documents' example
//! events: plain and safe-mode signatures, AES-256-CBC with 32-byte PKCS#7, non-canonical
//! EncodingAESKeys, URL verification, key rotation, tampering, wrong appids, DOCTYPE
//! rejection and the typed events.

use std::collections::HashMap;

use mendian::wxa::{
    wxa_parse_push, wxa_push_encrypt_with_random, wxa_push_signature, AddStoreAuditEvent, AddStoreUpgradeKind,
    ApplyMerchantAuditEvent, ApplyMerchantAuditEventStatus, CreateMapPoiAuditEvent, MapPoiAuditStatus,
    ModifyStoreAuditEvent, StoreAuditEventStatus, WxaEvent, WxaPushConfig, WxaPushReceiver,
};
use mendian::MendianError;
use serde_json::Value;

fn vectors() -> Value {
    let path = crate::common::vectors_dir().join("wechat_message_crypto.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("vector field {key}"))
}

fn receiver(token: &str, key: Option<&str>, previous: Option<&str>, appid: &str) -> std::sync::Arc<WxaPushReceiver> {
    WxaPushReceiver::new(WxaPushConfig {
        token: token.into(),
        encoding_aes_key: key.map(Into::into),
        previous_encoding_aes_key: previous.map(Into::into),
        appid: appid.into(),
        max_timestamp_skew_seconds: 0,
        accept_plain_mode: false,
    })
    .unwrap()
}

fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Decodes an `application/x-www-form-urlencoded` query string, as a web framework would.
fn parse_query(q: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }
    q.split('&').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// The query WeChat sends with a safe-mode push of `encrypt`.
fn safe_query(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> HashMap<String, String> {
    let msg_signature = wxa_push_signature(token.into(), timestamp.into(), nonce.into(), Some(encrypt.into()));
    let signature = wxa_push_signature(token.into(), timestamp.into(), nonce.into(), None);
    query(&[
        ("signature", &signature),
        ("timestamp", timestamp),
        ("nonce", nonce),
        ("openid", "oyORnuP8q7ou2gfYjqLzSIWZf0rs"),
        ("encrypt_type", "aes"),
        ("msg_signature", &msg_signature),
    ])
}

fn plain_query(token: &str, timestamp: &str, nonce: &str) -> HashMap<String, String> {
    let signature = wxa_push_signature(token.into(), timestamp.into(), nonce.into(), None);
    query(&[("signature", &signature), ("timestamp", timestamp), ("nonce", nonce)])
}

fn envelope(encrypt: &str) -> String {
    format!("<xml><ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
}

/// Every error must say what was wrong without echoing secrets.
fn assert_clean(err: &MendianError, secrets: &[&str]) {
    let text = format!("{err} {err:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "error leaks a secret: {text}");
    }
}

fn decode_reason(err: MendianError) -> String {
    match err {
        MendianError::Decode { what, reason } => format!("{what}: {reason}"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

fn signature_reason(err: MendianError) -> String {
    match err {
        MendianError::Signature { reason } => reason,
        other => panic!("expected Signature, got {other:?}"),
    }
}

const KEY_A: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const KEY_B: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const APPID: &str = "wx2c2769f8efd9abc2";

// ---------------------------------------------------------------------------------------
// Known answers
// ---------------------------------------------------------------------------------------

#[test]
fn plain_signature_vectors() {
    for v in vectors()["plain_signature"].as_array().unwrap() {
        let sig = wxa_push_signature(s(v, "token").into(), s(v, "timestamp").into(), s(v, "nonce").into(), None);
        assert_eq!(sig, s(v, "signature"), "{}", v["source"]);
        // The same check through URL verification in plain mode: the echostr is echoed.
        let r = receiver(s(v, "token"), None, None, APPID);
        let q = query(&[
            ("signature", s(v, "signature")),
            ("timestamp", s(v, "timestamp")),
            ("nonce", s(v, "nonce")),
            ("echostr", "5127"),
        ]);
        assert_eq!(r.verify_url(q.clone()).unwrap(), "5127");
        let mut bad = q;
        bad.insert("nonce".into(), "486452657".into());
        assert!(signature_reason(r.verify_url(bad).unwrap_err()).contains("`signature`"));
    }
    // The plain signature of vector A (reference §3.3).
    let sig = wxa_push_signature("pamtest".into(), "1409304348".into(), "xxxxxx".into(), None);
    assert_eq!(sig, "76480565cbe296026c53aaacd1ad523a1ddba24f");
}

#[test]
fn encryption_with_fixed_random_reproduces_the_samples() {
    for v in vectors()["encrypt_with_fixed_random"].as_array().unwrap() {
        let enc = wxa_push_encrypt_with_random(
            s(v, "encoding_aes_key").into(),
            s(v, "appid").into(),
            s(v, "random").as_bytes().to_vec(),
            s(v, "message").into(),
        )
        .unwrap();
        assert_eq!(enc, s(v, "encrypt"), "{}", v["source"]);

        // And it decrypts back through the receiver (URL verification returns the plaintext
        // without parsing it as XML).
        let r = receiver("pamtest", Some(s(v, "encoding_aes_key")), None, s(v, "appid"));
        let mut q = safe_query("pamtest", "1409304348", "xxxxxx", &enc);
        q.remove("signature");
        q.insert("echostr".into(), enc.clone());
        let msg_signature =
            wxa_push_signature("pamtest".into(), "1409304348".into(), "xxxxxx".into(), Some(enc.clone()));
        q.insert("msg_signature".into(), msg_signature);
        assert_eq!(r.verify_url(q).unwrap(), s(v, "message"));
    }
    let err = wxa_push_encrypt_with_random(KEY_A.into(), APPID.into(), b"short".to_vec(), "x".into()).unwrap_err();
    assert!(matches!(err, MendianError::InvalidArgument { ref field, .. } if field == "random"), "{err:?}");
}

#[test]
fn the_video_reply_sample_is_received_in_safe_mode() {
    let v = &vectors()["encrypt_with_fixed_random"][1];
    let r = receiver("pamtest", Some(s(v, "encoding_aes_key")), None, s(v, "appid"));
    let push =
        r.receive(safe_query("pamtest", "1409304348", "xxxxxx", s(v, "encrypt")), envelope(s(v, "encrypt"))).unwrap();
    assert_eq!(push.xml, s(v, "message"));
    assert!(push.encrypted && !push.used_previous_key);
    match push.event {
        WxaEvent::Other { msg_type, event, fields, raw_xml } => {
            assert_eq!(msg_type, "video");
            assert_eq!(event, None);
            assert_eq!(fields["ToUserName"], "oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw");
            assert_eq!(fields["CreateTime"], "1407743423");
            assert!(fields["Video"].starts_with("<MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D"), "{}", fields["Video"]);
            assert_eq!(raw_xml, s(v, "message"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn url_verification_with_url_encoded_echostr() {
    for v in vectors()["url_verification"].as_array().unwrap() {
        let r = receiver(s(v, "token"), Some(s(v, "encoding_aes_key")), None, s(v, "receive_id"));
        let q = parse_query(s(v, "query"));
        assert!(q["echostr"].contains('/') && q["echostr"].contains('+'), "the query must be URL-decoded");
        assert_eq!(r.verify_url(q.clone()).unwrap(), s(v, "echostr_plaintext"));

        // Passing the still-encoded value fails the msg_signature (it covers the decoded one).
        let mut raw = q.clone();
        let encoded = s(v, "query").split("echostr=").nth(1).unwrap();
        raw.insert("echostr".into(), encoded.into());
        assert!(signature_reason(r.verify_url(raw).unwrap_err()).contains("`msg_signature`"));

        // The receive id is checked.
        let other = receiver(s(v, "token"), Some(s(v, "encoding_aes_key")), None, "wx0000000000000000");
        let reason = decode_reason(other.verify_url(q.clone()).unwrap_err());
        assert!(reason.contains(s(v, "receive_id")) && reason.contains("wx0000000000000000"), "{reason}");

        // Safe-mode verification without a key is a configuration error.
        let plain_only = receiver(s(v, "token"), None, None, s(v, "receive_id"));
        assert!(matches!(plain_only.verify_url(q.clone()), Err(MendianError::Credentials { .. })));

        // Neither signature present.
        let mut unsigned = q;
        unsigned.remove("msg_signature");
        assert!(signature_reason(r.verify_url(unsigned).unwrap_err()).contains("`signature`"));
    }
}

#[test]
fn safe_mode_decrypt_vectors() {
    for v in vectors()["decrypt_message"].as_array().unwrap() {
        // The sample's timestamp and nonce are fixed, so each accepted push needs a receiver
        // that has not seen them (the replay guard).
        let fresh = || receiver(s(v, "token"), Some(s(v, "encoding_aes_key")), None, s(v, "appid"));
        let r = fresh();
        let q = query(&[
            ("timestamp", s(v, "timestamp")),
            ("nonce", s(v, "nonce")),
            ("encrypt_type", "aes"),
            ("msg_signature", s(v, "msg_signature")),
        ]);
        let push = r.receive(q.clone(), s(v, "body").into()).unwrap();
        assert_eq!(push.xml, s(v, "plaintext"), "{}: exact bytes, newlines kept", v["source"]);
        assert!(push.xml.ends_with("\n</xml>"));
        assert!(push.encrypted && !push.used_previous_key);
        match &push.event {
            WxaEvent::Other { msg_type, fields, raw_xml, .. } => {
                assert_eq!(msg_type, "text");
                assert_eq!(fields["Content"], "abcdteT");
                assert_eq!(fields["FromUserName"], "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
                assert!(!fields.contains_key("Encrypt"));
                assert_eq!(raw_xml, s(v, "plaintext"));
            }
            other => panic!("{other:?}"),
        }

        // Without encrypt_type the <Encrypt> element alone selects safe mode when a key is
        // configured.
        let mut no_type = q.clone();
        no_type.remove("encrypt_type");
        assert_eq!(fresh().receive(no_type, s(v, "body").into()).unwrap().xml, s(v, "plaintext"));

        // The plain signature, when present, is checked too.
        let plain = wxa_push_signature(s(v, "token").into(), s(v, "timestamp").into(), s(v, "nonce").into(), None);
        let mut with_plain = q.clone();
        with_plain.insert("signature".into(), plain.clone());
        assert!(fresh().receive(with_plain.clone(), s(v, "body").into()).is_ok());
        with_plain.insert("signature".into(), "0".repeat(40));
        assert!(signature_reason(r.receive(with_plain, s(v, "body").into()).unwrap_err()).contains("`signature`"));

        // The known mistake: a safe-mode push checked only with the plain signature.
        let only_plain = query(&[
            ("timestamp", s(v, "timestamp")),
            ("nonce", s(v, "nonce")),
            ("encrypt_type", "aes"),
            ("signature", &plain),
        ]);
        let reason = signature_reason(r.receive(only_plain, s(v, "body").into()).unwrap_err());
        assert!(reason.contains("msg_signature"), "{reason}");

        // A wrong msg_signature.
        let mut wrong = q.clone();
        wrong.insert(
            "msg_signature".into(),
            wxa_push_signature("other".into(), "1".into(), "2".into(), Some("3".into())),
        );
        let err = r.receive(wrong, s(v, "body").into()).unwrap_err();
        assert_clean(&err, &[s(v, "token"), s(v, "encoding_aes_key")]);
        assert!(signature_reason(err).contains("`msg_signature`"));

        // Safe mode without a configured key.
        let no_key = receiver(s(v, "token"), None, None, s(v, "appid"));
        let err = no_key.receive(q.clone(), s(v, "body").into()).unwrap_err();
        assert!(matches!(err, MendianError::Credentials { .. }), "{err:?}");

        // A wrong appid is refused, naming both ids and nothing of the message.
        let other = receiver(s(v, "token"), Some(s(v, "encoding_aes_key")), None, "wxb11529c136998cb6");
        let err = other.receive(q, s(v, "body").into()).unwrap_err();
        assert_clean(&err, &[s(v, "token"), s(v, "encoding_aes_key"), "abcdteT", "oyORnuP8q7ou2gfYjqLzSIWZf0rs"]);
        let reason = decode_reason(err);
        assert!(reason.contains("wx2c2769f8efd9abc2") && reason.contains("wxb11529c136998cb6"), "{reason}");
    }
}

#[test]
fn non_canonical_keys_are_accepted_and_bad_keys_named() {
    // Trailing bits 2, 2, 1 and 0 (only the last one is canonical base64).
    for key in [KEY_A.to_string(), KEY_B.to_string(), format!("{}R", "A".repeat(42)), "A".repeat(43)] {
        let key = key.as_str();
        WxaPushReceiver::new(WxaPushConfig {
            token: "t".into(),
            encoding_aes_key: Some(key.into()),
            previous_encoding_aes_key: None,
            appid: APPID.into(),
            max_timestamp_skew_seconds: 0,
            accept_plain_mode: false,
        })
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    let bad_keys = [
        KEY_A[..42].to_string(),
        format!("{KEY_A}H"),
        format!("{}+", &KEY_A[..42]),
        format!("{}=", &KEY_A[..42]),
        String::new(),
        format!("{}é", &KEY_A[..42]),
    ];
    for bad in &bad_keys {
        let bad = bad.as_str();
        let config = |previous: bool| WxaPushConfig {
            token: "t".into(),
            encoding_aes_key: Some(if previous { KEY_A.into() } else { bad.to_string() }),
            previous_encoding_aes_key: previous.then(|| bad.to_string()),
            appid: APPID.into(),
            max_timestamp_skew_seconds: 0,
            accept_plain_mode: false,
        };
        for previous in [false, true] {
            let err = WxaPushReceiver::new(config(previous)).unwrap_err();
            let MendianError::Credentials { reason } = &err else { panic!("{err:?}") };
            let name = if previous { "previous_encoding_aes_key" } else { "encoding_aes_key" };
            assert!(reason.starts_with(&format!("{name}:")), "{reason}");
            if !bad.is_empty() {
                assert_clean(&err, &[bad, &bad[..20]]);
            }
        }
    }
    let err = WxaPushReceiver::new(WxaPushConfig {
        token: "".into(),
        encoding_aes_key: None,
        previous_encoding_aes_key: None,
        appid: APPID.into(),
        max_timestamp_skew_seconds: 0,
        accept_plain_mode: false,
    })
    .unwrap_err();
    assert!(matches!(err, MendianError::InvalidArgument { ref field, .. } if field == "token"), "{err:?}");
    let err = WxaPushReceiver::new(WxaPushConfig {
        token: "t".into(),
        encoding_aes_key: None,
        previous_encoding_aes_key: Some(KEY_A.into()),
        appid: APPID.into(),
        max_timestamp_skew_seconds: 0,
        accept_plain_mode: false,
    })
    .unwrap_err();
    assert!(
        matches!(err, MendianError::InvalidArgument { ref field, .. } if field == "previous_encoding_aes_key"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The four audit events (the documents' examples, from spec/wxa.toml)
// ---------------------------------------------------------------------------------------

const APPLY_MERCHANT: &str = "<xml>
<ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName>
<FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>
<CreateTime>1488856741</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[apply_merchant_audit_info]]></Event>
<audit_id>11111</audit_id>
<status>3</status>
<reason><![CDATA[xxx]]></reason>
</xml>
";

const CREATE_MAP_POI: &str = "<xml>
<ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName>
<FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>
<CreateTime>1488856741</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[create_map_poi_audit_info]]></Event>
<audit_id>11111</audit_id>
<status>1</status>
<map_poi_id><![CDATA[xxx]]></map_poi_id>
<name><![CDATA[xxx]]></name>
<address><![CDATA[xxx]]></address>
<latitude><![CDATA[xxx]]></latitude>
<longitude><![CDATA[xxx]]></longitude>
<sh_remark><![CDATA[xxx]]></sh_remark>
</xml>
";

const ADD_STORE: &str = "<xml>
<ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName>
<FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>
<CreateTime>1488856741</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[add_store_audit_info]]></Event>
<audit_id>11111</audit_id>
<status>3</status>
<reason><![CDATA[xxx]]></reason>
<is_upgrade>3</is_upgrade>
<poiid>12344</poiid>
</xml>
";

const MODIFY_STORE: &str = "<xml>
<ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName>
<FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>
<CreateTime>1488856741</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[modify_store_audit_info]]></Event>
<audit_id>11111</audit_id>
<status>3</status>
<reason><![CDATA[xxx]]></reason>
</xml>
";

fn expected_events() -> Vec<(&'static str, WxaEvent)> {
    let (to, from) = ("gh_4346ac1514d8".to_string(), "od1P50M-fNQI5Gcq-trm4a7apsU8".to_string());
    vec![
        (
            APPLY_MERCHANT,
            WxaEvent::ApplyMerchantAudit {
                event: ApplyMerchantAuditEvent {
                    to_user_name: to.clone(),
                    from_user_name: from.clone(),
                    create_time: 1488856741,
                    msg_type: "event".into(),
                    event: "apply_merchant_audit_info".into(),
                    audit_id: 11111,
                    status: ApplyMerchantAuditEventStatus::Rejected,
                    reason: Some("xxx".into()),
                },
            },
        ),
        (
            CREATE_MAP_POI,
            WxaEvent::CreateMapPoiAudit {
                event: CreateMapPoiAuditEvent {
                    to_user_name: to.clone(),
                    from_user_name: from.clone(),
                    create_time: 1488856741,
                    msg_type: "event".into(),
                    event: "create_map_poi_audit_info".into(),
                    audit_id: 11111,
                    status: MapPoiAuditStatus::Rejected,
                    map_poi_id: "xxx".into(),
                    name: "xxx".into(),
                    address: "xxx".into(),
                    latitude: "xxx".into(),
                    longitude: "xxx".into(),
                    sh_remark: "xxx".into(),
                },
            },
        ),
        (
            ADD_STORE,
            WxaEvent::AddStoreAudit {
                event: AddStoreAuditEvent {
                    to_user_name: to.clone(),
                    from_user_name: from.clone(),
                    create_time: 1488856741,
                    msg_type: "event".into(),
                    event: "add_store_audit_info".into(),
                    audit_id: 11111,
                    status: StoreAuditEventStatus::Rejected,
                    reason: Some("xxx".into()),
                    is_upgrade: AddStoreUpgradeKind::Unknown { value: 3 },
                    poiid: Some("12344".into()),
                },
            },
        ),
        (
            MODIFY_STORE,
            WxaEvent::ModifyStoreAudit {
                event: ModifyStoreAuditEvent {
                    to_user_name: to,
                    from_user_name: from,
                    create_time: 1488856741,
                    msg_type: "event".into(),
                    event: "modify_store_audit_info".into(),
                    audit_id: 11111,
                    status: StoreAuditEventStatus::Rejected,
                    reason: Some("xxx".into()),
                },
            },
        ),
    ]
}

#[test]
fn document_examples_parse_to_typed_events() {
    let plain = receiver("storetoken", None, None, APPID);
    let safe = receiver("storetoken", Some(KEY_A), None, APPID);
    for (i, (xml, expected)) in expected_events().into_iter().enumerate() {
        assert_eq!(wxa_parse_push(xml.into()).unwrap(), expected);
        let nonce = format!("{}", 1234 + i);

        // Plain mode.
        let push = plain.receive(plain_query("storetoken", "1488856741", &nonce), xml.into()).unwrap();
        assert_eq!(push.event, expected);
        assert_eq!(push.xml, xml, "never trimmed");
        assert!(!push.encrypted);

        // Safe mode.
        let enc =
            wxa_push_encrypt_with_random(KEY_A.into(), APPID.into(), b"0123456789abcdef".to_vec(), xml.into()).unwrap();
        let push = safe.receive(safe_query("storetoken", "1488856741", &nonce, &enc), envelope(&enc)).unwrap();
        assert_eq!(push.event, expected);
        assert_eq!(push.xml, xml);
        assert!(push.encrypted);
    }
}

/// The receiver's defaults against forged and replayed pushes, with the clock's real time.
#[test]
fn stale_replayed_and_plain_pushes_are_refused_by_default() {
    let fresh = |skew: i64| (mendian_now() + skew).to_string();
    let config = |key: Option<&str>| WxaPushConfig {
        token: "storetoken".into(),
        encoding_aes_key: key.map(Into::into),
        previous_encoding_aes_key: None,
        appid: APPID.into(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: false,
    };
    let (xml, expected) = expected_events().remove(0);
    let enc = wxa_push_encrypt_with_random(KEY_A.into(), APPID.into(), b"0123456789abcdef".to_vec(), xml.into()).unwrap();
    let r = WxaPushReceiver::new(config(Some(KEY_A))).unwrap();

    // Inside the window: accepted once, then refused as a replay.
    let ts = fresh(-200);
    assert_eq!(r.receive(safe_query("storetoken", &ts, "777", &enc), envelope(&enc)).unwrap().event, expected);
    let again = signature_reason(r.receive(safe_query("storetoken", &ts, "777", &enc), envelope(&enc)).unwrap_err());
    assert!(again.contains("replayed push"), "{again}");
    // Another nonce is another push (WeChat's retry is a new request).
    r.receive(safe_query("storetoken", &ts, "778", &enc), envelope(&enc)).unwrap();

    // Outside the window, either way.
    for skew in [-400, 400] {
        let reason =
            signature_reason(r.receive(safe_query("storetoken", &fresh(skew), "779", &enc), envelope(&enc)).unwrap_err());
        assert!(reason.contains("outside the 300 s window"), "{reason}");
    }
    // A signed but absurd timestamp is named, not parsed into an overflow.
    let reason = signature_reason(
        r.receive(safe_query("storetoken", "99999999999999999999", "780", &enc), envelope(&enc)).unwrap_err(),
    );
    assert!(reason.contains("`timestamp`"), "{reason}");

    // With a key configured, a plain push (its signature does not cover the body) is refused,
    // so a forged "approved" body with a signature copied from a log goes nowhere.
    let forged = xml.replace("<status>1</status>", "<status>3</status>");
    let reason = signature_reason(r.receive(plain_query("storetoken", &fresh(0), "781"), forged.clone()).unwrap_err());
    assert!(reason.contains("plain-mode push was refused"), "{reason}");
    let switching = WxaPushReceiver::new(WxaPushConfig { accept_plain_mode: true, ..config(Some(KEY_A)) }).unwrap();
    assert!(!switching.receive(plain_query("storetoken", &fresh(0), "782"), xml.into()).unwrap().encrypted);

    // Plain-mode URL verification echoes only a plausible echostr.
    let plain = WxaPushReceiver::new(config(None)).unwrap();
    let ts = fresh(0);
    let mut q = plain_query("storetoken", &ts, "783");
    q.insert("echostr".into(), "5837397749754009888".into());
    assert_eq!(plain.verify_url(q.clone()).unwrap(), "5837397749754009888");
    q.insert("echostr".into(), "<script>alert(1)</script>".into());
    let reason = signature_reason(plain.verify_url(q.clone()).unwrap_err());
    assert!(reason.contains("`echostr`") && !reason.contains("script"), "{reason}");
    q.insert("echostr".into(), "1".repeat(129));
    assert!(plain.verify_url(q.clone()).is_err());
    let mut stale = plain_query("storetoken", &fresh(-301), "784");
    stale.insert("echostr".into(), "123".into());
    assert!(signature_reason(plain.verify_url(stale).unwrap_err()).contains("window"));
}

fn mendian_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn event_names_match_case_insensitively() {
    let xml = APPLY_MERCHANT.replace("apply_merchant_audit_info", "APPLY_MERCHANT_AUDIT_INFO");
    match wxa_parse_push(xml).unwrap() {
        WxaEvent::ApplyMerchantAudit { event } => assert_eq!(event.event, "APPLY_MERCHANT_AUDIT_INFO"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn approval_without_reason_and_unknown_statuses_decode() {
    let xml = ADD_STORE
        .replace("<status>3</status>", "<status>1</status>")
        .replace("<reason><![CDATA[xxx]]></reason>\n", "")
        .replace("<is_upgrade>3</is_upgrade>", "<is_upgrade><![CDATA[1]]></is_upgrade>");
    let WxaEvent::AddStoreAudit { event } = wxa_parse_push(xml).unwrap() else { panic!() };
    assert_eq!(event.status, StoreAuditEventStatus::Approved);
    assert_eq!(event.reason, None);
    assert_eq!(event.is_upgrade, AddStoreUpgradeKind::SupplementStore);
    let xml = APPLY_MERCHANT.replace("<status>3</status>", "<status>2</status>");
    let WxaEvent::ApplyMerchantAudit { event } = wxa_parse_push(xml).unwrap() else { panic!() };
    assert_eq!(event.status, ApplyMerchantAuditEventStatus::Unknown { value: 2 });
}

#[test]
fn a_known_event_with_bad_fields_names_the_event_and_field() {
    let bad = APPLY_MERCHANT.replace("<audit_id>11111</audit_id>", "<audit_id>eleven</audit_id>");
    let reason = decode_reason(wxa_parse_push(bad).unwrap_err());
    assert!(reason.contains("apply_merchant_audit_info") && reason.contains("`audit_id`"), "{reason}");
    assert!(!reason.contains("eleven"), "{reason}");

    let missing = MODIFY_STORE.replace("<status>3</status>\n", "");
    let reason = decode_reason(wxa_parse_push(missing).unwrap_err());
    assert!(reason.contains("modify_store_audit_info") && reason.contains("status"), "{reason}");

    let empty = CREATE_MAP_POI.replace("<CreateTime>1488856741</CreateTime>", "<CreateTime></CreateTime>");
    let reason = decode_reason(wxa_parse_push(empty).unwrap_err());
    assert!(reason.contains("`CreateTime` is empty"), "{reason}");
}

#[test]
fn unknown_events_land_in_other() {
    let xml = "<xml><ToUserName><![CDATA[gh_4346ac1514d8]]></ToUserName>\n<FromUserName><![CDATA[oX]]></FromUserName>\n<CreateTime>1488856741</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[poi_check_notify]]></Event>\n<UniqId><![CDATA[123adb]]></UniqId>\n<Msg>a &amp; b &lt;c&gt;</Msg>\n<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f]]></PicMd5Sum></item></PicList></SendPicsInfo>\n</xml>";
    let r = receiver("storetoken", None, None, APPID);
    let push = r.receive(plain_query("storetoken", "1", "2"), xml.into()).unwrap();
    assert_eq!(push.xml, xml);
    let WxaEvent::Other { msg_type, event, fields, raw_xml } = push.event else { panic!() };
    assert_eq!(msg_type, "event");
    assert_eq!(event.as_deref(), Some("poi_check_notify"));
    assert_eq!(fields["UniqId"], "123adb");
    assert_eq!(fields["Msg"], "a & b <c>");
    assert_eq!(
        fields["SendPicsInfo"],
        "<Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f]]></PicMd5Sum></item></PicList>"
    );
    assert_eq!(fields.len(), 8);
    assert_eq!(raw_xml, xml);
}

// ---------------------------------------------------------------------------------------
// Key rotation and replies
// ---------------------------------------------------------------------------------------

#[test]
fn key_rotation_round_trip() {
    let (old, new) = (KEY_A, KEY_B);
    // WeChat still on the old key, and a peer that only knows the old key.
    let old_only = receiver("rot", Some(old), None, APPID);
    let new_only = receiver("rot", Some(new), None, APPID);
    let rotating = receiver("rot", Some(new), Some(old), APPID);

    let reply = old_only.encrypt_reply(MODIFY_STORE.into(), "1700000000".into(), "98765".into(), false).unwrap();
    let encrypt = between(&reply, "<Encrypt><![CDATA[", "]]></Encrypt>");
    let push = rotating.receive(safe_query("rot", "1700000000", "98765", encrypt), reply.clone()).unwrap();
    assert!(push.used_previous_key);
    assert_eq!(push.xml, MODIFY_STORE);
    assert!(matches!(push.event, WxaEvent::ModifyStoreAudit { .. }));

    // A receiver without the previous key cannot read it, and says so without garbage.
    let err = new_only.receive(safe_query("rot", "1700000000", "98765", encrypt), reply).unwrap_err();
    assert_clean(&err, &[old, new, "modify_store_audit_info", "11111"]);
    decode_reason(err);

    // The reply goes back with the key that worked.
    let answer = rotating
        .encrypt_reply("<xml><Content>ok</Content></xml>".into(), "1700000001".into(), "n1".into(), true)
        .unwrap();
    let encrypt = between(&answer, "<Encrypt><![CDATA[", "]]></Encrypt>");
    let back = old_only.receive(safe_query("rot", "1700000001", "n1", encrypt), answer.clone()).unwrap();
    assert_eq!(back.xml, "<xml><Content>ok</Content></xml>");
    assert!(!back.used_previous_key);

    // And with the current key once WeChat has switched.
    let answer = new_only.encrypt_reply(APPLY_MERCHANT.into(), "1700000002".into(), "n2".into(), false).unwrap();
    let encrypt = between(&answer, "<Encrypt><![CDATA[", "]]></Encrypt>");
    let push = rotating.receive(safe_query("rot", "1700000002", "n2", encrypt), answer).unwrap();
    assert!(!push.used_previous_key);
    assert!(matches!(push.event, WxaEvent::ApplyMerchantAudit { .. }));
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let a = s.find(start).unwrap() + start.len();
    let b = s[a..].find(end).unwrap() + a;
    &s[a..b]
}

#[test]
fn reply_envelope_is_signed_and_fresh() {
    let r = receiver("pamtest", Some(KEY_A), None, "wxb11529c136998cb6");
    let a = r.encrypt_reply("<xml/>".into(), "1409304348".into(), "xxxxxx".into(), false).unwrap();
    let b = r.encrypt_reply("<xml/>".into(), "1409304348".into(), "xxxxxx".into(), false).unwrap();
    let encrypt = between(&a, "<Encrypt><![CDATA[", "]]></Encrypt>");
    assert_ne!(encrypt, between(&b, "<Encrypt><![CDATA[", "]]></Encrypt>"), "a fresh random prefix each time");
    let expected = wxa_push_signature("pamtest".into(), "1409304348".into(), "xxxxxx".into(), Some(encrypt.into()));
    assert_eq!(
        a,
        format!("<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n<MsgSignature><![CDATA[{expected}]]></MsgSignature>\n<TimeStamp>1409304348</TimeStamp>\n<Nonce><![CDATA[xxxxxx]]></Nonce>\n</xml>")
    );
    assert!(matches!(
        r.encrypt_reply("<xml/>".into(), "1".into(), "a]]>b".into(), false),
        Err(MendianError::InvalidArgument { .. })
    ));
    assert!(matches!(
        r.encrypt_reply("<xml/>".into(), "12x".into(), "n".into(), false),
        Err(MendianError::InvalidArgument { .. })
    ));
    assert!(matches!(
        r.encrypt_reply("<xml/>".into(), "1".into(), "n".into(), true),
        Err(MendianError::Credentials { .. })
    ));
    let plain = receiver("pamtest", None, None, "wxb11529c136998cb6");
    assert!(matches!(
        plain.encrypt_reply("<xml/>".into(), "1".into(), "n".into(), false),
        Err(MendianError::Credentials { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Attacks and malformed input
// ---------------------------------------------------------------------------------------

fn flip(encrypt: &str, byte: impl Fn(usize) -> usize) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut ct = engine.decode(encrypt).unwrap();
    let i = byte(ct.len());
    ct[i] ^= 0x80;
    engine.encode(ct)
}

#[test]
fn tampered_ciphertext_is_an_error_not_garbage() {
    let v = &vectors()["decrypt_message"][1];
    let (token, key) = (s(v, "token"), s(v, "encoding_aes_key"));
    let r = receiver(token, Some(key), None, s(v, "appid"));
    let encrypt = between(s(v, "body"), "<Encrypt><![CDATA[", "]]></Encrypt>");
    for position in [0usize, 40, 100] {
        let tampered = flip(encrypt, |_| position);
        // As sent by an attacker who does not know the token: the msg_signature no longer
        // matches.
        let mut q = query(&[("timestamp", s(v, "timestamp")), ("nonce", s(v, "nonce")), ("encrypt_type", "aes")]);
        q.insert("msg_signature".into(), s(v, "msg_signature").into());
        let body = s(v, "body").replace(encrypt, &tampered);
        assert!(signature_reason(r.receive(q, body).unwrap_err()).contains("msg_signature"));
    }
    // Even correctly signed, a flipped bit in the first block breaks the length prefix and
    // one in the second-to-last block breaks the padding: errors, never a garbled message.
    for (from_end, want) in [(None, "length prefix"), (Some(17), "padding")] {
        let tampered = flip(encrypt, |n| from_end.map_or(0, |k| n - k));
        let err = r.receive(safe_query(token, "1", "2", &tampered), envelope(&tampered)).unwrap_err();
        assert_clean(&err, &[token, key, "abcdteT"]);
        let reason = decode_reason(err);
        assert!(reason.contains(want), "{reason}");
    }
}

/// AES-256-CBC with WeChat's IV and no padding, independently of mendian, for crafting
/// ciphertexts mendian itself would never produce.
fn raw_cbc(encoding_aes_key: &str, plaintext: &[u8]) -> String {
    use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};
    use base64::Engine;
    let engine = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::general_purpose::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = engine.decode(format!("{encoding_aes_key}=")).unwrap();
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let k = EncryptingKey::cbc(UnboundCipherKey::new(&AES_256, &key).unwrap()).unwrap();
    let mut buf = plaintext.to_vec();
    k.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(iv.into())).unwrap();
    base64::engine::general_purpose::STANDARD.encode(buf)
}

fn wechat_layout(msg: &str, appid: &str) -> Vec<u8> {
    let mut v = b"aaaabbbbccccdddd".to_vec();
    v.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    v.extend_from_slice(msg.as_bytes());
    v.extend_from_slice(appid.as_bytes());
    v
}

#[test]
fn raw_cbc_agrees_with_the_sample() {
    let v = &vectors()["encrypt_with_fixed_random"][0];
    let mut pt = wechat_layout(s(v, "message"), s(v, "appid"));
    let pad = 32 - pt.len() % 32;
    pt.resize(pt.len() + pad, pad as u8);
    assert_eq!(raw_cbc(s(v, "encoding_aes_key"), &pt), s(v, "encrypt"));
}

#[test]
fn bad_padding_is_rejected() {
    let r = receiver("tok", Some(KEY_A), None, APPID);
    let content = wechat_layout("<xml/>", APPID); // 44 bytes
    let cases: [(usize, u8, &str); 4] =
        [(64, 0, "pad length 0"), (96, 33, "pad length 33"), (64, 255, "pad length 255"), (48, 4, "pad bytes differ")];
    for (total, pad, want) in cases {
        let mut pt = content.clone();
        pt.resize(total, pad);
        if want == "pad bytes differ" {
            *pt.last_mut().unwrap() = 3; // the last 3 bytes are 4, 4, 3
        }
        let enc = raw_cbc(KEY_A, &pt);
        let reason = decode_reason(r.receive(safe_query("tok", "1", "2", &enc), envelope(&enc)).unwrap_err());
        assert!(reason.contains(want), "{want}: {reason}");
    }
    // The correct padding of the same content is accepted (20 bytes of 0x14).
    let mut pt = content;
    pt.resize(64, 20);
    let enc = raw_cbc(KEY_A, &pt);
    assert_eq!(r.receive(safe_query("tok", "1", "2", &enc), envelope(&enc)).unwrap().xml, "<xml/>");
}

#[test]
fn malformed_ciphertexts_are_named() {
    let r = receiver("tok", Some(KEY_A), None, APPID);
    let cases = [
        ("not base64!", "not valid base64"),
        (
            "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D",
            "URL-encoded",
        ),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "not a non-zero multiple of 16"),
    ];
    for (encrypt, want) in cases {
        let reason = decode_reason(r.receive(safe_query("tok", "1", "2", encrypt), envelope(encrypt)).unwrap_err());
        assert!(reason.contains(want), "{want}: {reason}");
    }
    // Encrypt element missing in safe mode.
    let q = safe_query("tok", "1", "2", "");
    let reason = decode_reason(r.receive(q, "<xml><ToUserName>x</ToUserName></xml>".into()).unwrap_err());
    assert!(reason.contains("<Encrypt>"), "{reason}");
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>&lol9;</ToUserName><MsgType>text</MsgType></xml>"#;

#[test]
fn doctype_is_rejected_in_plain_and_safe_mode() {
    let r = receiver("tok", Some(KEY_A), None, APPID);
    let reason = decode_reason(r.receive(plain_query("tok", "1", "2"), BILLION_LAUGHS.into()).unwrap_err());
    assert!(reason.contains("DOCTYPE"), "{reason}");

    let enc =
        wxa_push_encrypt_with_random(KEY_A.into(), APPID.into(), b"0123456789abcdef".to_vec(), BILLION_LAUGHS.into())
            .unwrap();
    let reason = decode_reason(r.receive(safe_query("tok", "1", "2", &enc), envelope(&enc)).unwrap_err());
    assert!(reason.contains("DOCTYPE"), "{reason}");

    let xxe = "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><Content>&x;</Content></xml>";
    assert!(decode_reason(wxa_parse_push(xxe.into()).unwrap_err()).contains("DOCTYPE"));
    let pi = "<?xml version=\"1.0\"?><?xml-stylesheet href=\"x.xsl\"?><xml/>";
    assert!(decode_reason(wxa_parse_push(pi.into()).unwrap_err()).contains("processing instruction"));
    // An XML declaration alone is fine.
    assert!(
        wxa_parse_push("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml><MsgType>text</MsgType></xml>".into()).is_ok()
    );
}

#[test]
fn xml_without_an_xml_root_is_rejected() {
    let r = receiver("tok", None, None, APPID);
    let reason = decode_reason(
        r.receive(plain_query("tok", "1", "2"), "<root><MsgType>text</MsgType></root>".into()).unwrap_err(),
    );
    assert!(reason.contains("root element must be <xml>"), "{reason}");
    for bad in ["", "hello", "{\"json\": true}", "<xml><MsgType>text</xml>"] {
        assert!(
            matches!(r.receive(plain_query("tok", "1", "2"), bad.into()), Err(MendianError::Decode { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn missing_parameters_are_named() {
    let r = receiver("tok", Some(KEY_A), None, APPID);
    let full = plain_query("tok", "1", "2");
    for name in ["timestamp", "nonce", "signature"] {
        let mut q = full.clone();
        q.remove(name);
        let reason = signature_reason(r.receive(q, MODIFY_STORE.into()).unwrap_err());
        assert!(reason.contains(&format!("`{name}`")), "{name}: {reason}");
    }
    let mut q = full.clone();
    q.insert("nonce".into(), String::new());
    assert!(signature_reason(r.receive(q, MODIFY_STORE.into()).unwrap_err()).contains("`nonce`"));
    let mut q = full;
    q.insert("echostr".into(), "e".into());
    q.remove("timestamp");
    assert!(signature_reason(r.verify_url(q).unwrap_err()).contains("`timestamp`"));
    // A wrong token fails the plain signature, and the error does not contain the token.
    let err = receiver("SECRET-TOKEN", None, None, APPID)
        .receive(plain_query("tok", "1", "2"), MODIFY_STORE.into())
        .unwrap_err();
    assert_clean(&err, &["SECRET-TOKEN"]);
    assert!(signature_reason(err).contains("`signature`"));
}
