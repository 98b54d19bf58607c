//! WeChat Pay 支付即服务 end to end against the emulator, in both trust modes: the staff
//! lifecycle, signature failures, bad input that is never sent, errors with the documents'
//! words, retries and failover.

use std::sync::Arc;

use mendian::wechatpay::{
    wechatpay_pem_signer, AssignGuideRequest, QueryGuidesRequest, RegisterGuideRequest, UpdateGuideRequest,
    WechatpayClient, WechatpayConfig,
};
use mendian::MendianError;
use mendian_emulator::{Emulator, Fault, FaultKind};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    PublicKey,
    Certificates,
}

fn client(emu: &Emulator, mode: Mode, f: impl FnOnce(&mut WechatpayConfig)) -> Arc<WechatpayClient> {
    let p = emu.profile();
    let mut c = WechatpayConfig::new(p.wechatpay_mchid.clone(), p.wechatpay_merchant_serial_no.clone());
    c.options.base_url = Some(p.wechatpay_base_url.clone());
    c.options.backup_base_url = Some(String::new());
    c.options.timeout_ms = Some(5_000);
    c.apiv3_key = Some(p.wechatpay_apiv3_key.clone());
    if mode == Mode::PublicKey {
        c.wechatpay_public_key_id = Some(p.wechatpay_public_key_id.clone());
        c.wechatpay_public_key_pem = Some(p.wechatpay_public_key_pem.clone());
    }
    f(&mut c);
    WechatpayClient::new(c, wechatpay_pem_signer(p.wechatpay_merchant_private_key_pem.clone()).unwrap()).unwrap()
}

pub(crate) fn register(name: &str, mobile: &str) -> RegisterGuideRequest {
    RegisterGuideRequest {
        sub_mchid: None,
        corpid: "ww1234567890abcdef".into(),
        store_id: 1234567,
        userid: "robert".into(),
        name: name.into(),
        mobile: mobile.into(),
        qr_code: "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx".into(),
        avatar: "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0".into(),
        group_qrcode: None,
    }
}

pub(crate) fn query(mobile: Option<&str>) -> QueryGuidesRequest {
    QueryGuidesRequest {
        sub_mchid: None,
        store_id: 1234567,
        userid: None,
        mobile: mobile.map(str::to_string),
        work_id: None,
        limit: None,
        offset: None,
    }
}

fn update(guide_id: &str) -> UpdateGuideRequest {
    UpdateGuideRequest {
        guide_id: guide_id.into(),
        sub_mchid: None,
        name: None,
        mobile: None,
        qr_code: None,
        avatar: None,
        group_qrcode: None,
    }
}

#[tokio::test]
async fn staff_lifecycle_in_both_trust_modes() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    for mode in [Mode::PublicKey, Mode::Certificates] {
        emu.reset();
        let wx = client(&emu, mode, |_| {});
        let guide = wx.register_guide(register("张三", "13900000000")).await.unwrap().guide_id;
        assert_eq!(guide.len(), 34);
        wx.assign_guide(AssignGuideRequest {
            guide_id: guide.clone(),
            sub_mchid: None,
            out_trade_no: "1217752501201407033233368018".into(),
        })
        .await
        .unwrap();
        let found = wx.query_guides(query(Some("13900000000"))).await.unwrap();
        assert_eq!(found.data.len(), 1, "{mode:?}");
        assert_eq!(found.data[0].name.as_deref(), Some("张三"), "decrypted with the merchant key");
        assert_eq!(found.data[0].mobile.as_deref(), Some("13900000000"));

        wx.update_guide(UpdateGuideRequest {
            name: Some("张三丰".into()),
            avatar: Some("https://wx.qlogo.cn/new/0".into()),
            ..update(&guide)
        })
        .await
        .unwrap();
        let after = wx.query_guides(query(None)).await.unwrap();
        assert_eq!(after.data[0].name.as_deref(), Some("张三丰"));

        // What went over the wire: encrypted sensitive fields, the key they were encrypted
        // with named in Wechatpay-Serial, and the headers WeChat Pay requires.
        let recorded = emu.recorded();
        let reg = recorded.iter().find(|r| r.endpoint.as_deref() == Some("register_guide")).unwrap();
        assert!(!reg.body.contains("张三") && !reg.body.contains("13900000000"), "plaintext never leaves the client");
        let expected_serial = if mode == Mode::PublicKey {
            emu.profile().wechatpay_public_key_id
        } else {
            emu.profile().wechatpay_platform_serial_no
        };
        assert_eq!(reg.headers["wechatpay-serial"], expected_serial);
        assert!(reg.headers["user-agent"].starts_with("mendian/"));
        assert_eq!(reg.headers["accept"], "application/json");
        let q = recorded
            .iter()
            .find(|r| {
                r.endpoint.as_deref() == Some("query_guides") && r.query.as_deref().unwrap_or("").contains("mobile=")
            })
            .unwrap();
        let qs = q.query.as_deref().unwrap();
        assert!(!qs.contains('+') && !qs.contains('/') && !qs.contains("=="), "ciphertext is percent-encoded: {qs}");
        if mode == Mode::Certificates {
            assert_eq!(wx.platform_certificate_serials(), vec![emu.profile().wechatpay_platform_serial_no]);
            assert!(recorded.iter().any(|r| r.path == "/v3/certificates"));
        }
    }
    emu.stop().await;
}

#[tokio::test]
async fn paging_through_every_guide_of_a_store() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::PublicKey, |_| {});
    for i in 0..23 {
        wx.register_guide(register(&format!("员工{i}"), &format!("139000000{i:02}"))).await.unwrap();
    }
    let all = wx.query_all_guides(query(None)).await.unwrap();
    assert_eq!(all.len(), 23);
    let pages = emu.recorded().iter().filter(|r| r.endpoint.as_deref() == Some("query_guides")).count();
    assert_eq!(pages, 3, "limit 10: 10 + 10 + 3");
    emu.stop().await;
}

#[tokio::test]
async fn tampered_skewed_or_probe_signatures_fail() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::PublicKey, |_| {});
    for kind in
        [FaultKind::WechatpayBadSignature, FaultKind::WechatpaySignTest, FaultKind::WechatpayClockSkew { seconds: 600 }]
    {
        emu.add_fault(Fault { id: 0, route: "POST /v3/smartguide/guides".into(), kind: kind.clone(), times: Some(1) });
        let e = wx.register_guide(register("张三", "13900000000")).await.unwrap_err();
        assert!(matches!(e, MendianError::Signature { .. }), "{kind:?}: {e:?}");
    }
    // An unsigned 2xx is refused too.
    emu.add_fault(Fault {
        id: 0,
        route: "POST /v3/smartguide/guides".into(),
        kind: FaultKind::Status { status: 200, body: r#"{"guide_id":"forged"}"#.into(), content_type: None },
        times: Some(1),
    });
    let e = wx.register_guide(register("张三", "13900000000")).await.unwrap_err();
    assert!(e.to_string().contains("no Wechatpay-Signature"), "{e}");
    emu.stop().await;
}

#[tokio::test]
async fn bad_input_is_never_sent() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::PublicKey, |_| {});
    let cases: Vec<(RegisterGuideRequest, &str)> = vec![
        (RegisterGuideRequest { name: "张三😀".into(), ..register("x", "13900000000") }, "name"),
        (RegisterGuideRequest { name: "张".repeat(22), ..register("x", "13900000000") }, "name"),
        (RegisterGuideRequest { mobile: "1".repeat(33), ..register("x", "1") }, "mobile"),
        (RegisterGuideRequest { avatar: "not a url".into(), ..register("x", "13900000000") }, "avatar"),
    ];
    for (req, field) in cases {
        match wx.register_guide(req).await.unwrap_err() {
            MendianError::InvalidArgument { field: f, .. } => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    let e = wx.query_guides(QueryGuidesRequest { limit: Some(11), ..query(None) }).await.unwrap_err();
    assert!(matches!(e, MendianError::InvalidArgument { ref field, .. } if field == "limit"), "{e:?}");
    assert!(emu.recorded().is_empty(), "nothing reached WeChat Pay");
    emu.stop().await;
}

#[tokio::test]
async fn platform_errors_carry_the_documents_words() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::PublicKey, |_| {});
    let with_avatar = |guide: &str| UpdateGuideRequest { avatar: Some("https://wx.qlogo.cn/a/0".into()), ..update(guide) };
    let e = wx.update_guide(with_avatar("LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic")).await.unwrap_err();
    match e {
        MendianError::Api { http_status, code, request_id, .. } => {
            assert_eq!(http_status, Some(404));
            assert_eq!(code, "RESOURCE_NOT_EXISTS");
            assert!(request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    let guide = wx.register_guide(register("张三", "13900000000")).await.unwrap().guide_id;
    // An update with nothing to update is refused before sending (the spec's
    // at_least_one_of), naming every field it could have set…
    let before = emu.recorded().len();
    match wx.update_guide(update(&guide)).await.unwrap_err() {
        MendianError::InvalidArgument { field, reason } => {
            assert_eq!(field, "request");
            assert!(reason.contains("name, mobile, qr_code, avatar, group_qrcode"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.recorded().len(), before, "nothing was sent");
    // …and when WeChat Pay answers PARAM_ERROR anyway, the error carries the document's words.
    emu.add_fault(Fault {
        id: 0,
        route: format!("PATCH /v3/smartguide/guides/{guide}"),
        kind: FaultKind::Status {
            status: 400,
            body: r#"{"code":"PARAM_ERROR","message":"所有可更新的参数都没有填"}"#.into(),
            content_type: None,
        },
        times: Some(1),
    });
    match wx.update_guide(with_avatar(&guide)).await.unwrap_err() {
        MendianError::Api { code, server_message, description, remedy, .. } => {
            assert_eq!(code, "PARAM_ERROR");
            assert_eq!(server_message, "所有可更新的参数都没有填");
            assert_eq!(description.as_deref(), Some("所有可更新的参数都没有填"));
            assert!(remedy.is_some());
        }
        other => panic!("{other:?}"),
    }
    // A wrong merchant key: SIGN_ERROR shows what WeChat Pay saw next to what was signed.
    let other_key = crate::common::vector_text("wechatpay/keys/go_test_private_key.pem");
    let p = emu.profile();
    let mut c = WechatpayConfig::new(p.wechatpay_mchid.clone(), p.wechatpay_merchant_serial_no.clone());
    c.options.base_url = Some(p.wechatpay_base_url.clone());
    c.options.backup_base_url = Some(String::new());
    c.wechatpay_public_key_id = Some(p.wechatpay_public_key_id.clone());
    c.wechatpay_public_key_pem = Some(p.wechatpay_public_key_pem.clone());
    let wrong = WechatpayClient::new(c, wechatpay_pem_signer(other_key).unwrap()).unwrap();
    let e = wrong.query_guides(query(None)).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("SIGN_ERROR") && text.contains("WeChat Pay saw") && text.contains("mendian signed"),
        "{text}"
    );
    assert!(!text.contains("PRIVATE KEY"));
    emu.stop().await;
}

#[tokio::test]
async fn retries_only_where_the_spec_allows_and_fails_over_on_connect_errors() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::PublicKey, |_| {});
    let guide = wx.register_guide(register("张三", "13900000000")).await.unwrap().guide_id;
    let system_error = FaultKind::Status {
        status: 500,
        body: r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#.into(),
        content_type: None,
    };
    // update is retried on SYSTEM_ERROR (请使用相同参数稍后重新调用)…
    emu.add_fault(Fault {
        id: 0,
        route: format!("PATCH /v3/smartguide/guides/{guide}"),
        kind: system_error.clone(),
        times: Some(1),
    });
    let before = emu.recorded().len();
    wx.update_guide(UpdateGuideRequest { avatar: Some("https://wx.qlogo.cn/b/0".into()), ..update(&guide) })
        .await
        .unwrap();
    assert_eq!(emu.recorded().len(), before + 2);
    // …register is not (it creates).
    emu.add_fault(Fault { id: 0, route: "POST /v3/smartguide/guides".into(), kind: system_error, times: Some(1) });
    let before = emu.recorded().len();
    let e = wx.register_guide(register("李四", "13900000001")).await.unwrap_err();
    assert!(matches!(e, MendianError::Api { retryable: true, .. }), "{e:?}");
    assert_eq!(emu.recorded().len(), before + 1);
    // 429 on a query is retried.
    emu.add_fault(Fault {
        id: 0,
        route: "GET /v3/smartguide/guides".into(),
        kind: FaultKind::Status {
            status: 429,
            body: r#"{"code":"FREQUENCY_LIMITED","message":"频率超限"}"#.into(),
            content_type: None,
        },
        times: Some(1),
    });
    assert_eq!(wx.query_guides(query(None)).await.unwrap().data.len(), 1);

    // The primary host refuses connections: the call goes to the backup host, re-signed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let failover = client(&emu, Mode::PublicKey, |c| {
        c.options.backup_base_url = c.options.base_url.clone();
        c.options.base_url = Some(dead_url.clone());
    });
    assert_eq!(failover.query_guides(query(None)).await.unwrap().data.len(), 1);
    emu.stop().await;
}

#[tokio::test]
async fn certificates_mode_without_certificates_says_what_to_do() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    emu.add_fault(Fault {
        id: 0,
        route: "GET /v3/certificates".into(),
        kind: FaultKind::Status {
            status: 404,
            body: r#"{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。"}"#.into(),
            content_type: None,
        },
        times: None,
    });
    let wx = client(&emu, Mode::Certificates, |_| {});
    let e = wx.register_guide(register("张三", "13900000000")).await.unwrap_err();
    assert!(matches!(e, MendianError::Credentials { .. }), "{e:?}");
    assert!(e.to_string().contains("public-key mode"), "{e}");
    emu.stop().await;
}

#[tokio::test]
async fn partner_mode_sends_the_sub_merchant() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let partner = client(&emu, Mode::PublicKey, |c| c.sub_mchid = Some("1900000109".into()));
    let direct = client(&emu, Mode::PublicKey, |_| {});
    partner.register_guide(register("张三", "13900000000")).await.unwrap();
    let reg = emu.recorded().into_iter().find(|r| r.endpoint.as_deref() == Some("register_guide")).unwrap();
    assert!(reg.body.contains(r#""sub_mchid":"1900000109""#), "{}", reg.body);
    // The sub-merchant's guides are seen through the sub-merchant only.
    assert_eq!(partner.query_guides(query(None)).await.unwrap().data.len(), 1);
    assert_eq!(direct.query_guides(query(None)).await.unwrap().data.len(), 0);
    let q = emu.recorded().into_iter().find(|r| r.endpoint.as_deref() == Some("query_guides")).unwrap();
    assert!(q.query.unwrap().contains("sub_mchid=1900000109"));
    // Every request names a key in Wechatpay-Serial, encrypted fields or not.
    assert!(emu.recorded().iter().all(|r| r.headers.contains_key("wechatpay-serial")));
    emu.stop().await;
}

#[tokio::test]
async fn notifications_under_unknown_serials_cause_at_most_one_download_a_minute() {
    use std::collections::HashMap;
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, Mode::Certificates, |_| {});
    let downloads = || emu.recorded().iter().filter(|r| r.path == "/v3/certificates").count();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let forged = |serial: String| {
        let headers = HashMap::from([
            ("Wechatpay-Timestamp".to_string(), now.clone()),
            ("Wechatpay-Nonce".to_string(), "n".to_string()),
            ("Wechatpay-Signature".to_string(), "AAAA".to_string()),
            ("Wechatpay-Serial".to_string(), serial),
        ]);
        (headers, r#"{"id":"x"}"#.to_string())
    };
    // Anyone can post a notification: 50 with made-up serials cause one download.
    for i in 0..50 {
        let (h, b) = forged(format!("{i:040X}"));
        let e = wx.verify_notification(h, b).await.unwrap_err();
        assert!(matches!(e, MendianError::Signature { .. }), "{e:?}");
        if i > 0 {
            assert!(e.to_string().contains("less than a minute ago"), "{e}");
        }
    }
    assert_eq!(downloads(), 1);
    // Extreme timestamps are refused by the window, never an overflow.
    for ts in [i64::MIN.to_string(), i64::MAX.to_string(), "99999999999999999999".into()] {
        let (mut h, b) = forged(emu.profile().wechatpay_platform_serial_no);
        h.insert("Wechatpay-Timestamp".into(), ts.clone());
        let e = wx.verify_notification(h, b).await.unwrap_err();
        assert!(matches!(e, MendianError::Signature { .. }), "{ts}: {e:?}");
    }
    emu.stop().await;
}

#[tokio::test]
async fn platform_certificates_outside_their_validity_are_refused() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    // The emulator serves the official SDKs' test certificate, expired in 2025.
    emu.add_fault(Fault { id: 0, route: "GET /v3/certificates".into(), kind: FaultKind::WechatpayExpiredCertificate, times: Some(1) });
    let e = client(&emu, Mode::Certificates, |_| {}).query_guides(query(None)).await.unwrap_err();
    match &e {
        MendianError::Credentials { reason } => {
            assert!(reason.contains("outside its validity") && reason.contains("440024045C4A427599D09BB4E3DE0279F2E813FD"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!emu.recorded().iter().any(|r| r.endpoint.as_deref() == Some("query_guides")), "nothing is sent without a valid key");
    // Its own certificate (valid 2025–2124) is accepted.
    client(&emu, Mode::Certificates, |_| {}).query_guides(query(None)).await.unwrap();
    emu.stop().await;
}
