//! 门店小程序 end to end against the emulator: the whole onboarding (categories → image upload
//! → apply_merchant → its audit event verified and decrypted → districts → map POI → store →
//! audits → get/list/update → store card → delete), tokens (stable and classic, expiry
//! mid-flow, 200 concurrent callers, a shared store), failover, faults, the documented errors,
//! and invalid input that never leaves the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mendian::wxa::*;
use mendian::{ClientOptions, MendianError};
use mendian_emulator::{Emulator, Fault, FaultKind, PushMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
const PIC: &str = "http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg";

fn config(emu: &Emulator) -> WxaConfig {
    let p = emu.profile();
    WxaConfig { options: ClientOptions::with_base_url(p.wxa_base_url.clone()), ..WxaConfig::new(p.wxa_appid.clone()) }
}

fn client(emu: &Emulator, classic: bool) -> Arc<WxaClient> {
    let p = emu.profile();
    let provider = if classic {
        wxa_classic_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    } else {
        wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    };
    WxaClient::new(config(emu), provider, None).unwrap()
}

fn code(e: &MendianError) -> &str {
    match e {
        MendianError::Api { code, .. } => code,
        other => panic!("expected Api, got {other:?}"),
    }
}

fn invalid_field(e: MendianError) -> String {
    match e {
        MendianError::InvalidArgument { field, .. } => field,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// One push as the callback received it.
#[derive(Debug, Clone)]
struct Received {
    query: HashMap<String, String>,
    body: String,
}

/// A loopback HTTP server standing in for the merchant's 服务器 URL: it hands every POST to
/// the test and answers `success`.
struct Callback {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

fn decode_query(q: &str) -> HashMap<String, String> {
    fn pct(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (pct(k), pct(v))).collect()
}

impl Callback {
    async fn start() -> Callback {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/wechat/push", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sink = got.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).into_owned();
                        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                            let len: usize = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse().unwrap())
                                })
                                .unwrap_or(0);
                            if rest.len() >= len {
                                break (head.to_string(), rest[..len].to_string());
                            }
                        }
                    };
                    let target = head.split(' ').nth(1).unwrap_or("/");
                    let query = target.split_once('?').map(|(_, q)| decode_query(q)).unwrap_or_default();
                    sink.lock().unwrap().push(Received { query, body });
                    let _ = conn
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nsuccess")
                        .await;
                });
            }
        });
        Callback { url, got }
    }

    /// Waits for the next push after the first `seen`.
    async fn next(&self, seen: &mut usize) -> Received {
        for _ in 0..500 {
            if let Some(r) = self.got.lock().unwrap().get(*seen).cloned() {
                *seen += 1;
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no push arrived at the callback within 5 s");
    }
}

fn receiver(emu: &Emulator) -> Arc<WxaPushReceiver> {
    let p = emu.profile();
    WxaPushReceiver::new(WxaPushConfig {
        token: p.wxa_push_token.clone(),
        encoding_aes_key: Some(p.wxa_encoding_aes_key.clone()),
        previous_encoding_aes_key: None,
        appid: p.wxa_appid.clone(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: false,
    })
    .unwrap()
}

async fn upload_png(wx: &WxaClient) -> String {
    let up = wx.upload_media(UploadMediaRequest { type_: WxaMediaType::Image, media: PNG.to_vec() }).await.unwrap();
    assert_eq!(up.type_.as_ref().map(|t| t.wire_value()), Some("image"));
    up.media_id
}

fn apply(media_id: &str) -> ApplyMerchantRequest {
    ApplyMerchantRequest {
        first_catid: 278,
        second_catid: 280,
        qualification_list: Some(media_id.into()),
        headimg_mediaid: media_id.into(),
        nickname: "门店小程序测试".into(),
        intro: "门店介绍".into(),
        org_code: None,
        other_files: None,
    }
}

fn map_poi(name: &str) -> CreateMapPoiRequest {
    CreateMapPoiRequest {
        name: name.into(),
        longitude: "113.323753357".into(),
        latitude: "23.0974903107".into(),
        province: "广东省".into(),
        city: "广州市".into(),
        district: "海珠区".into(),
        address: "新港中路397号".into(),
        category: "美食:中餐厅".into(),
        telephone: "020-89190388;13800000000".into(),
        photo: "http://mmbiz.qpic.cn/mmbiz_png/a/0".into(),
        license: "http://mmbiz.qpic.cn/mmbiz_png/b/0".into(),
        introduct: "test".into(),
        districtid: "440105".into(),
        poi_id: None,
    }
}

pub(crate) fn store(map_poi_id: &str) -> AddStoreRequest {
    AddStoreRequest {
        map_poi_id: map_poi_id.into(),
        pic_list: StorePicList { list: vec![PIC.into()] },
        contract_phone: "020-89190388".into(),
        hour: "10:00-21:00".into(),
        credential: "22883878-0".into(),
        company_name: None,
        qualification_list: None,
        card_id: "".into(),
        poi_id: None,
    }
}

#[tokio::test]
async fn store_onboarding_with_audit_events_in_safe_mode() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let cb = Callback::start().await;
    emu.set_wxa_callback(Some(&cb.url), PushMode::Safe).unwrap();
    let rx = receiver(&emu);
    let mut seen = 0;
    let wx = client(&emu, false);

    let cats = wx.get_merchant_category(GetMerchantCategoryRequest {}).await.unwrap();
    let second = cats
        .data
        .all_category_info
        .categories
        .iter()
        .find(|c| c.level == MerchantCategoryLevel::Second)
        .expect("a 二级类目");
    let media_id = upload_png(&wx).await;
    wx.apply_merchant(ApplyMerchantRequest {
        first_catid: second.father.unwrap(),
        second_catid: second.id,
        ..apply(&media_id)
    })
    .await
    .unwrap();

    // The audit result arrives encrypted; the receiver checks msg_signature, decrypts, checks
    // the appid and types the event.
    let push = rx.receive(cb.next(&mut seen).await.query, cb.got.lock().unwrap()[0].body.clone()).unwrap();
    assert!(push.encrypted && !push.used_previous_key);
    let WxaEvent::ApplyMerchantAudit { event } = push.event else { panic!("{:?}", push.event) };
    assert_eq!(event.status, ApplyMerchantAuditEventStatus::Approved);
    assert_eq!(event.to_user_name, emu.profile().wxa_original_id);
    let audit = wx.get_merchant_audit_info(GetMerchantAuditInfoRequest {}).await.unwrap();
    assert_eq!(audit.data.status, MerchantAuditStatus::Approved);
    assert_eq!(audit.data.audit_id, event.audit_id);

    // Districts as a tree: ids arrive as strings and numbers and decode alike.
    let tree = wx.get_district_tree().await.unwrap();
    let gd = tree.iter().find(|p| p.province.fullname == "广东省").expect("广东省");
    let gz = gd.cities.iter().find(|c| c.city.fullname == "广州市").expect("广州市");
    let haizhu = gz.districts.iter().find(|d| d.fullname == "海珠区").expect("海珠区");

    // A map POI of our own: created, audited, then found by search.
    let created = wx
        .create_map_poi(CreateMapPoiRequest { districtid: haizhu.id.clone(), ..map_poi("龙涤小区熟食店") })
        .await
        .unwrap();
    let r = cb.next(&mut seen).await;
    let WxaEvent::CreateMapPoiAudit { event: poi } = rx.receive(r.query, r.body).unwrap().event else {
        panic!("expected create_map_poi_audit_info")
    };
    assert_eq!(poi.audit_id, created.data.base_id);
    assert_eq!(poi.status, MapPoiAuditStatus::Approved);
    let found = wx
        .search_map_poi(SearchMapPoiRequest { districtid: haizhu.id.parse().unwrap(), keyword: "熟食".into() })
        .await
        .unwrap();
    assert!(found.data.item.iter().any(|i| i.sosomap_poi_uid == poi.map_poi_id), "the approved POI is searchable");

    let added = wx.add_store(store(&poi.map_poi_id)).await.unwrap();
    let r = cb.next(&mut seen).await;
    let WxaEvent::AddStoreAudit { event: st } = rx.receive(r.query, r.body).unwrap().event else {
        panic!("expected add_store_audit_info")
    };
    assert_eq!(st.audit_id, added.data.audit_id);
    assert_eq!(st.status, StoreAuditEventStatus::Approved);
    let poi_id = st.poiid.clone().expect("poiid on approval");

    let info = wx.get_store_info(GetStoreInfoRequest { poi_id: poi_id.clone() }).await.unwrap();
    assert_eq!(
        info.business.base_info.poi_id.as_deref(),
        Some(poi_id.as_str()),
        "a numeric poi_id decodes as the same string"
    );
    assert_eq!(info.business.base_info.status, Some(StoreAuditStatus::Approved));
    let all = wx.get_all_stores().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].base_info.photo_list.as_ref().unwrap()[0].photo_url, PIC);

    // New pictures need an audit: has_audit_id arrives as 1 and reads as a bool.
    let new_pic = "http://mmbiz.qpic.cn/mmbiz_jpg/y/0?wx_fmt=jpeg";
    let updated = wx
        .update_store(UpdateStoreRequest {
            map_poi_id: None,
            poi_id: poi_id.clone(),
            hour: "09:00-22:00".into(),
            contract_phone: "020-89190388".into(),
            pic_list: StorePicList { list: vec![new_pic.into()] },
            card_id: "".into(),
        })
        .await
        .unwrap();
    assert!(updated.data.has_audit_id);
    let r = cb.next(&mut seen).await;
    let WxaEvent::ModifyStoreAudit { event: m } = rx.receive(r.query, r.body).unwrap().event else {
        panic!("expected modify_store_audit_info")
    };
    assert_eq!(Some(m.audit_id), updated.data.audit_id);
    let info = wx.get_store_info(GetStoreInfoRequest { poi_id: poi_id.clone() }).await.unwrap();
    assert_eq!(info.business.base_info.open_time.as_deref(), Some("09:00-22:00"));

    wx.set_store_card(SetStoreCardRequest {
        poi_id: poi_id.parse().unwrap(),
        card_id: "pabcedfg1234567hijklmn".into(),
    })
    .await
    .unwrap();
    let card = wx.get_store_card(GetStoreCardRequest { poi_id: poi_id.parse().unwrap() }).await.unwrap();
    assert_eq!(card.card_id.as_deref(), Some("pabcedfg1234567hijklmn"));

    wx.del_store(DelStoreRequest { poi_id: poi_id.clone() }).await.unwrap();
    let e = wx.get_store_info(GetStoreInfoRequest { poi_id }).await.unwrap_err();
    assert_eq!(code(&e), "65115");
    match &e {
        MendianError::Api { description, request_id, .. } => {
            assert_eq!(description.as_deref(), Some("门店不存在"), "the spec's description");
            assert!(request_id.is_some(), "rid read from errmsg");
        }
        _ => unreachable!(),
    }
    // One token for the whole flow, and it appears in no error.
    assert_eq!(emu.wxa_token_fetches(), 1);
    let token = wx.access_token().await.unwrap();
    assert!(!format!("{e} {e:?}").contains(&token));
    // Every push was answered `success`.
    assert!(emu.wxa_pushes().iter().all(|p| p.answer == "success" && p.error.is_none()), "{:?}", emu.wxa_pushes());
    emu.stop().await;
}

#[tokio::test]
async fn plain_mode_pushes_verify_and_a_forged_one_is_refused() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let cb = Callback::start().await;
    emu.set_wxa_callback(Some(&cb.url), PushMode::Plain).unwrap();
    let wx = client(&emu, false);
    let media_id = upload_png(&wx).await;
    wx.apply_merchant(apply(&media_id)).await.unwrap();
    let mut seen = 0;
    let r = cb.next(&mut seen).await;
    let p = emu.profile();
    // Plain mode needs no key.
    let plain = WxaPushReceiver::new(WxaPushConfig {
        token: p.wxa_push_token.clone(),
        encoding_aes_key: None,
        previous_encoding_aes_key: None,
        appid: p.wxa_appid.clone(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: false,
    })
    .unwrap();
    let push = plain.receive(r.query.clone(), r.body.clone()).unwrap();
    assert!(!push.encrypted);
    assert!(matches!(push.event, WxaEvent::ApplyMerchantAudit { .. }));
    // The same push again is a replay.
    match plain.receive(r.query.clone(), r.body.clone()) {
        Err(MendianError::Signature { reason }) => assert!(reason.contains("replayed"), "{reason}"),
        other => panic!("a replayed push was not refused: {other:?}"),
    }
    // A receiver with an EncodingAESKey refuses plain mode (its signature does not cover the
    // body), unless told to accept it while the console switches modes.
    match receiver(&emu).receive(r.query.clone(), r.body.clone()) {
        Err(MendianError::Signature { reason }) => assert!(reason.contains("plain-mode push was refused"), "{reason}"),
        other => panic!("a plain push reached a safe-mode receiver: {other:?}"),
    }
    let switching = WxaPushReceiver::new(WxaPushConfig {
        token: p.wxa_push_token.clone(),
        encoding_aes_key: Some(p.wxa_encoding_aes_key.clone()),
        previous_encoding_aes_key: None,
        appid: p.wxa_appid.clone(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: true,
    })
    .unwrap();
    assert!(!switching.receive(r.query.clone(), r.body.clone()).unwrap().encrypted);
    // A forged body keeps the old signature: refused.
    let forged = r.body.replace("<status>1</status>", "<status>3</status>");
    assert_ne!(forged, r.body);
    let mut q = r.query.clone();
    q.insert("timestamp".into(), "1".into());
    assert!(matches!(plain.receive(q, forged), Err(MendianError::Signature { .. })));
    // A wrong token refuses everything.
    let wrong = WxaPushReceiver::new(WxaPushConfig {
        token: "not-the-token".into(),
        encoding_aes_key: None,
        previous_encoding_aes_key: None,
        appid: p.wxa_appid.clone(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: false,
    })
    .unwrap();
    assert!(matches!(wrong.receive(r.query, r.body), Err(MendianError::Signature { .. })));
    emu.stop().await;
}

#[tokio::test]
async fn a_token_that_expires_mid_flow_is_recovered_with_one_refresh() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    for classic in [false, true] {
        emu.reset();
        let wx = client(&emu, classic);
        wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap();
        emu.add_fault(Fault { id: 0, route: "*".into(), kind: FaultKind::WxaExpireTokens, times: Some(1) });
        wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap();
        assert_eq!(emu.wxa_token_fetches(), 2, "classic={classic}: one initial fetch and one refresh");
    }
    emu.stop().await;
}

#[tokio::test]
async fn two_hundred_concurrent_callers_cause_one_token_fetch() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    emu.add_fault(Fault {
        id: 0,
        route: "POST /cgi-bin/stable_token".into(),
        kind: FaultKind::Delay { millis: 300 },
        times: None,
    });
    let wx = client(&emu, false);
    let calls = |wx: Arc<WxaClient>| async move {
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let wx = wx.clone();
            tasks.push(tokio::spawn(
                async move { wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await },
            ));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    };
    // Cold start: one fetch for 200 callers.
    calls(wx.clone()).await;
    assert_eq!(emu.wxa_token_fetches(), 1);
    // The token expires under 200 callers: each sees 42001, and still one fetch replaces it.
    emu.add_fault(Fault { id: 0, route: "*".into(), kind: FaultKind::WxaExpireTokens, times: Some(1) });
    calls(wx.clone()).await;
    assert_eq!(emu.wxa_token_fetches(), 2);
    // Two clients of the same appid sharing a store (two servers of a fleet, here in one
    // process): 400 callers, one fetch on a cold start and one after expiry.
    let store = wxa_memory_token_store();
    let p = emu.profile();
    let provider =
        wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let a = WxaClient::new(config(&emu), provider.clone(), Some(store.clone())).unwrap();
    let b = WxaClient::new(config(&emu), provider, Some(store)).unwrap();
    tokio::join!(calls(a.clone()), calls(b.clone()));
    assert_eq!(emu.wxa_token_fetches(), 3, "two clients sharing a store fetch once");
    emu.add_fault(Fault { id: 0, route: "*".into(), kind: FaultKind::WxaExpireTokens, times: Some(1) });
    tokio::join!(calls(a), calls(b));
    assert_eq!(emu.wxa_token_fetches(), 4, "and refresh once");
    emu.stop().await;
}

/// A token provider standing in for an app's backend: the app never holds the AppSecret.
struct Backend {
    base: String,
    appid: String,
    secret: String,
    calls: Mutex<u32>,
}

#[async_trait::async_trait]
impl WxaTokenProvider for Backend {
    async fn fetch_token(&self, force_refresh: bool) -> Result<WxaAccessToken, MendianError> {
        *self.calls.lock().unwrap() += 1;
        let body = serde_json::json!({ "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force_refresh });
        let bytes = reqwest::Client::new()
            .post(format!("{}/cgi-bin/stable_token", self.base))
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| MendianError::Callback { reason: e.to_string() })?
            .bytes()
            .await
            .map_err(|e| MendianError::Callback { reason: e.to_string() })?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| MendianError::Callback { reason: e.to_string() })?;
        Ok(WxaAccessToken {
            access_token: v["access_token"].as_str().unwrap().into(),
            expires_in: v["expires_in"].as_u64().unwrap(),
        })
    }
}

#[tokio::test]
async fn your_own_provider_failover_and_faults() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let backend = Arc::new(Backend {
        base: p.wxa_base_url.clone(),
        appid: p.wxa_appid.clone(),
        secret: p.wxa_secret.clone(),
        calls: Mutex::new(0),
    });
    // The primary host refuses connections: the call goes to the backup host.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cfg = WxaConfig {
        options: ClientOptions {
            base_url: Some(format!("http://{closed}")),
            backup_base_url: Some(p.wxa_base_url.clone()),
            ..ClientOptions::default()
        },
        ..WxaConfig::new(p.wxa_appid.clone())
    };
    let wx = WxaClient::new(cfg, backend.clone(), None).unwrap();
    wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap();
    assert_eq!(*backend.calls.lock().unwrap(), 1);

    let wx = WxaClient::new(config(&emu), backend.clone(), None).unwrap();
    // -1 on a transient call: retried, and the caller sees the success.
    emu.clear_recorded();
    emu.add_fault(Fault {
        id: 0,
        route: "POST /wxa/get_store_list".into(),
        kind: FaultKind::WxaErrcode { errcode: -1, errmsg: String::new() },
        times: Some(1),
    });
    wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap();
    assert_eq!(emu.recorded().iter().filter(|r| r.path == "/wxa/get_store_list").count(), 2);
    // A token the platform keeps refusing: one invalidation, one retry, then the error; never a loop.
    emu.clear_recorded();
    let fetched = *backend.calls.lock().unwrap();
    emu.add_fault(Fault {
        id: 0,
        route: "POST /wxa/get_store_list".into(),
        kind: FaultKind::WxaErrcode { errcode: 40001, errmsg: String::new() },
        times: Some(5),
    });
    let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap_err();
    assert_eq!(code(&e), "40001");
    assert_eq!(emu.recorded().iter().filter(|r| r.path == "/wxa/get_store_list").count(), 2);
    assert_eq!(*backend.calls.lock().unwrap(), fetched + 1);
    emu.clear_faults();
    // 45009 (daily quota): surfaced with the documents' remedy, not retried.
    emu.clear_recorded();
    emu.add_fault(Fault {
        id: 0,
        route: "POST /wxa/get_store_list".into(),
        kind: FaultKind::WxaErrcode { errcode: 45009, errmsg: String::new() },
        times: Some(1),
    });
    let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.unwrap_err();
    assert_eq!(code(&e), "45009");
    assert!(
        matches!(&e, MendianError::Api { description: Some(d), retryable: false, remedy: Some(r), .. } if d == "reach max api daily quota limit" && r.contains("clear_quota")),
        "{e:?}"
    );
    assert_eq!(emu.recorded().len(), 1);
    // -1 on add_store (not idempotent): never repeated.
    emu.clear_recorded();
    emu.add_fault(Fault {
        id: 0,
        route: "POST /wxa/add_store".into(),
        kind: FaultKind::WxaErrcode { errcode: -1, errmsg: String::new() },
        times: Some(1),
    });
    let e = wx.add_store(store("2880741500279549033")).await.unwrap_err();
    assert_eq!(code(&e), "-1");
    assert_eq!(emu.recorded().len(), 1);
    // A dropped connection after the request went out: the outcome is unknown, no failover,
    // no retry.
    emu.clear_recorded();
    emu.add_fault(Fault { id: 0, route: "POST /wxa/add_store".into(), kind: FaultKind::Drop, times: Some(1) });
    let e = wx.add_store(store("2880741500279549033")).await.unwrap_err();
    assert!(matches!(&e, MendianError::OutcomeUnknown { endpoint, .. } if endpoint == "add_store"), "{e:?}");
    assert_eq!(emu.recorded().len(), 1);
    emu.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, false);
    let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 51 }).await.unwrap_err();
    assert_eq!(invalid_field(e), "limit");
    // 4–30 in width, a CJK character counting 2: 门a is 3 wide, sixteen 门 are 32.
    for nickname in ["门a".to_string(), "门".repeat(16)] {
        let e = wx.apply_merchant(ApplyMerchantRequest { nickname, ..apply("m") }).await.unwrap_err();
        assert_eq!(invalid_field(e), "nickname");
    }
    let e = wx.add_store(AddStoreRequest { hour: "9:00-21:00".into(), ..store("1") }).await.unwrap_err();
    assert_eq!(invalid_field(e), "hour");
    let e = wx
        .add_store(AddStoreRequest {
            pic_list: StorePicList { list: vec![PIC.into(), "mmbiz.qpic.cn/x".into()] },
            ..store("1")
        })
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "pic_list.list[1]");
    let e = wx.create_map_poi(CreateMapPoiRequest { category: "美食".into(), ..map_poi("x") }).await.unwrap_err();
    assert_eq!(invalid_field(e), "category");
    let e = wx
        .create_map_poi(CreateMapPoiRequest { telephone: "020-89190388;;".into(), ..map_poi("x") })
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "telephone");
    for (bytes, why) in [
        (b"GIF89a\x01\0\x01\0".to_vec(), "GIF"),
        (Vec::new(), "empty"),
        ([PNG, &vec![0u8; 2 * 1024 * 1024]].concat(), "2097152"),
    ] {
        let e = wx.upload_media(UploadMediaRequest { type_: WxaMediaType::Image, media: bytes }).await.unwrap_err();
        match e {
            MendianError::InvalidArgument { field, reason } => {
                assert_eq!(field, "media");
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(emu.recorded().is_empty(), "nothing was sent, not even a token request: {:?}", emu.recorded());
    emu.stop().await;
}

#[tokio::test]
async fn documented_errors_carry_the_spec_description() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, false);
    // A wrong secret: the token endpoint's errcode, without the secret in the error.
    let p = emu.profile();
    let bad = WxaClient::new(
        config(&emu),
        wxa_stable_token_provider(p.wxa_appid.clone(), "wrong-secret".into(), Some(p.wxa_base_url.clone())).unwrap(),
        None,
    )
    .unwrap();
    let e = bad.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap_err();
    assert_eq!(code(&e), "40125");
    assert!(!format!("{e} {e:?}").contains("wrong-secret"));
    // A map POI that does not exist.
    let e = wx.add_store(store("1")).await.unwrap_err();
    assert_eq!(code(&e), "85055");
    assert!(matches!(&e, MendianError::Api { description: Some(d), .. } if d == "map_poi_id 无效"), "{e:?}");
    // A media id the platform never issued.
    let e =
        wx.apply_merchant(apply("RTZgKZ386yFn5kQSWLTxe4bqxwgzGBjs3OE02cg9CVQk1wRVE3c8fjUFX7jvpi-P")).await.unwrap_err();
    assert_eq!(code(&e), "85056");
    assert!(matches!(&e, MendianError::Api { description: Some(d), .. } if d == "临时mediaid无效"), "{e:?}");
    // Audits that take time: the merchant is 审核中 until the delay passes.
    emu.set_wxa_audit_delay(Duration::from_secs(60));
    let media_id = upload_png(&wx).await;
    wx.apply_merchant(apply(&media_id)).await.unwrap();
    let audit = wx.get_merchant_audit_info(GetMerchantAuditInfoRequest {}).await.unwrap();
    assert_eq!(audit.data.status, MerchantAuditStatus::InReview);
    let e = wx.apply_merchant(apply(&media_id)).await.unwrap_err();
    assert_eq!(code(&e), "85050");
    emu.stop().await;
}

#[tokio::test]
async fn calls_go_through_the_configured_proxy() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    // A host that does not resolve: only a proxy (here the emulator, which serves
    // absolute-form requests by their path) can deliver the call.
    let options = ClientOptions {
        proxy_url: Some(p.wxa_base_url.clone()),
        ..ClientOptions::with_base_url("http://wxa.mendian-proxy-test.invalid")
    };
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let wx = WxaClient::new(WxaConfig { options, ..WxaConfig::new(p.wxa_appid.clone()) }, provider.clone(), None).unwrap();
    let listing = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap();
    assert_eq!(listing.total_count, Some(0));
    let direct = WxaClient::new(
        WxaConfig { options: ClientOptions::with_base_url("http://wxa.mendian-proxy-test.invalid"), ..WxaConfig::new(p.wxa_appid.clone()) },
        provider,
        None,
    )
    .unwrap();
    let e = direct.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap_err();
    assert!(matches!(e, MendianError::Network { .. }), "without the proxy the host cannot be reached: {e:?}");
    emu.stop().await;
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_fails_without_being_read() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let options = ClientOptions { max_response_bytes: Some(4096), ..ClientOptions::with_base_url(p.wxa_base_url.clone()) };
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let wx = WxaClient::new(WxaConfig { options, ..WxaConfig::new(p.wxa_appid.clone()) }, provider, None).unwrap();
    assert_eq!(wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap().total_count, Some(0));
    let huge = format!(r#"{{"errcode":0,"business_list":[],"total_count":0,"pad":"{}"}}"#, "x".repeat(100_000));
    emu.add_fault(mendian_emulator::Fault {
        id: 0,
        route: "POST /wxa/get_store_list".into(),
        kind: mendian_emulator::FaultKind::Status { status: 200, body: huge, content_type: None },
        times: Some(1),
    });
    let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap_err();
    assert!(matches!(&e, MendianError::Decode { reason, .. } if reason.contains("larger than 4096 bytes")), "{e:?}");
    let e = ClientOptions { max_response_bytes: Some(0), ..ClientOptions::default() };
    assert!(WxaClient::new(WxaConfig { options: e, ..WxaConfig::new("wx1") }, wxa_stable_token_provider("wx1".into(), "s".into(), None).unwrap(), None).is_err());
    emu.stop().await;
}

#[tokio::test]
async fn an_answer_without_the_documented_list_is_a_decode_error_not_no_stores() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap();
    let wx = WxaClient::new(
        WxaConfig { options: ClientOptions::with_base_url(p.wxa_base_url.clone()), ..WxaConfig::new(p.wxa_appid.clone()) },
        provider,
        None,
    )
    .unwrap();
    for body in [r#"{"total_count":3}"#, r#"{}"#] {
        emu.add_fault(mendian_emulator::Fault {
            id: 0,
            route: "POST /wxa/get_store_list".into(),
            kind: mendian_emulator::FaultKind::Status { status: 200, body: body.into(), content_type: None },
            times: Some(1),
        });
        let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap_err();
        assert!(
            matches!(&e, MendianError::Decode { reason, .. } if reason.contains("lacks the documented field(s) `business_list`")),
            "{body}: {e:?}"
        );
    }
    // The documented empty answer is still an empty list.
    assert_eq!(wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap().business_list, vec![]);
    emu.stop().await;
}
