//! The walkthrough behind `cargo xtask demo`: starts the bundled emulator in-process and
//! shows, step by step, what mendian does: the spec, validation, error meanings, the
//! emulator's admin API, then each platform's flow (WeChat Pay staff, Tmall workers, and the
//! 门店小程序 store onboarding with its audit events pushed to a local server).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use mendian::catalog::{describe_error, endpoints};
use mendian::{MendianError, Platform};

/// Checks a request the way every call does before sending it.
fn validate_update(r: mendian::wechatpay::UpdateGuideRequest) -> Result<(), MendianError> {
    mendian::Validate::validate(&r)
}

/// An optional value as a person reads it: the value itself, or `—` when absent.
fn or_dash<T: std::fmt::Debug>(v: Option<T>) -> String {
    v.map(|v| format!("{v:?}").trim_matches('"').to_string()).unwrap_or_else(|| "—".into())
}

fn title(s: &str) {
    println!("\n── {s} {}", "─".repeat(70usize.saturating_sub(s.chars().count())));
}

fn show(label: &str, r: Result<(), MendianError>) {
    match r {
        Ok(()) => println!("  ✓ {label}: valid"),
        Err(MendianError::InvalidArgument { field, reason }) => println!("  ✗ {label}: InvalidArgument `{field}`: {reason}"),
        Err(e) => println!("  ✗ {label}: {e}"),
    }
}

/// One plain HTTP/1.1 exchange with the emulator (the SDK's own transports come with the
/// platform runtimes).
fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    write!(s, "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("mendian {} — walkthrough against the bundled emulator", mendian::mendian_version());

    title("1. Start the emulator");
    let emu = mendian_emulator::Emulator::start(Default::default()).await?;
    let p = emu.profile();
    println!("  WeChat Pay   {}  (mchid {}, platform certificate {})", p.wechatpay_base_url, p.wechatpay_mchid, p.wechatpay_platform_serial_no);
    println!("  门店小程序   {}  (appid {})", p.wxa_base_url, p.wxa_appid);
    println!("  TOP          {}  (app_key {})", p.top_gateway_url, p.top_app_key);
    println!("  admin API    {}  (the whole profile, test keys included: GET {}/profile)", p.admin_url, p.admin_url);

    title("2. What the spec knows");
    let all = endpoints();
    for (p, name) in [(Platform::Wechatpay, "WeChat Pay 支付即服务"), (Platform::Wxa, "WeChat 门店小程序"), (Platform::Top, "TOP worker")] {
        let eps: Vec<_> = all.iter().filter(|e| e.platform == p).collect();
        println!("  {name}: {} endpoints", eps.len());
        for e in eps {
            let enc = if e.encrypted_fields.is_empty() { String::new() } else { format!("  [encrypted: {}]", e.encrypted_fields.join(", ")) };
            println!("    {:<6} {:<45} {}{enc}", e.method, e.api_name.clone().unwrap_or_else(|| e.path.clone()), e.title);
        }
    }

    title("3. Validation before anything is sent");
    let doc_example = mendian::wechatpay::UpdateGuideRequest {
        guide_id: "LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic".into(),
        name: Some("张三".into()),
        mobile: Some("13900000000".into()),
        qr_code: Some("https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx".into()),
        avatar: Some("http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0".into()),
        group_qrcode: Some("http://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0".into()),
        ..base_update()
    };
    show("the document's 服务人员信息更新 example", validate_update(doc_example.clone()));
    show("a name with an emoji", validate_update(mendian::wechatpay::UpdateGuideRequest { name: Some("张三😀".into()), ..doc_example.clone() }));
    show("a 24-character, 72-byte name (the limit is 64 bytes before encryption)", validate_update(mendian::wechatpay::UpdateGuideRequest { name: Some("张".repeat(24)), ..doc_example.clone() }));
    show("a 1025-character avatar URL", validate_update(mendian::wechatpay::UpdateGuideRequest { avatar: Some(format!("https://x/{}", "a".repeat(1015))), ..doc_example }));

    title("4. What an error code means (from the documents)");
    for (ep, code, sub, msg) in [
        ("update_guide", "PARAM_ERROR", None, "个人微信商家不能改二维码"),
        ("apply_merchant", "85024", None, ""),
        ("worker_update", "10006", None, ""),
    ] {
        match describe_error(ep.into(), code.into(), sub.map(str::to_string), msg.into())? {
            Some(i) => println!("  {ep} {code}: {} — remedy: {}", i.description, i.remedy.unwrap_or_else(|| "(none documented)".into())),
            None => println!("  {ep} {code}: not documented"),
        }
    }

    title("5. The emulator records requests and injects faults");
    let addr = emu.addr();
    let (a, b, c) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let a = http(addr, "POST", "/wxa/get_store_list?access_token=demo", r#"{"offset":0}"#)?;
        let _ = http(addr, "POST", "/__admin/faults", r#"{"route":"POST /wxa/get_store_list","kind":{"type":"status","status":200,"body":"{\"errcode\":-1,\"errmsg\":\"system error\"}"},"times":1}"#)?;
        let b = http(addr, "POST", "/wxa/get_store_list?access_token=demo", r#"{"offset":0,"limit":10}"#)?;
        let c = http(addr, "GET", "/__admin/requests", "")?;
        Ok((a, b, c))
    })
    .await??;
    println!("  get_store_list with a made-up token → {a}");
    println!("  with an injected -1 fault        → {b}");
    let recorded: Vec<serde_json::Value> = serde_json::from_str(&c)?;
    println!("  recorded requests: {}", recorded.len());
    for r in &recorded {
        let text = |k: &str| r[k].as_str().map(str::to_string).unwrap_or_else(|| r[k].to_string());
        println!("    #{} {} {} ({}) {}", r["seq"], text("method"), text("path"), text("endpoint"), text("body"));
    }

    title("6. WeChat Pay 支付即服务: the staff lifecycle");
    staff_lifecycle(&emu).await?;

    title("7. Tmall service-center workers over TOP");
    tmall_workers(&emu).await?;

    title("8. WeChat 门店小程序: store onboarding, with the audit events pushed to your server");
    store_onboarding(&emu).await?;

    emu.stop().await;
    println!("\ndone.");
    Ok(())
}

async fn staff_lifecycle(emu: &mendian_emulator::Emulator) -> Result<(), Box<dyn std::error::Error>> {
    use mendian::wechatpay::*;
    emu.reset();
    let p = emu.profile();
    let mut config = WechatpayConfig::new(p.wechatpay_mchid.clone(), p.wechatpay_merchant_serial_no.clone());
    config.options = mendian::ClientOptions::with_base_url(p.wechatpay_base_url.clone());
    config.apiv3_key = Some(p.wechatpay_apiv3_key.clone());
    config.wechatpay_public_key_id = Some(p.wechatpay_public_key_id.clone());
    config.wechatpay_public_key_pem = Some(p.wechatpay_public_key_pem.clone());
    let wx = WechatpayClient::new(config, wechatpay_pem_signer(p.wechatpay_merchant_private_key_pem.clone())?)?;
    let guide = wx
        .register_guide(RegisterGuideRequest {
            sub_mchid: None,
            corpid: "ww1234567890abcdef".into(),
            store_id: 1234567,
            userid: "robert".into(),
            name: "张三".into(),
            mobile: "13900000000".into(),
            qr_code: "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx".into(),
            avatar: "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0".into(),
            group_qrcode: None,
        })
        .await?
        .guide_id;
    println!("  register  张三 / 13900000000 (sent RSA-OAEP encrypted) → guide_id {guide}");
    wx.assign_guide(AssignGuideRequest { guide_id: guide.clone(), sub_mchid: None, out_trade_no: "1217752501201407033233368018".into() }).await?;
    println!("  assign    to order 1217752501201407033233368018 → 204");
    let q = QueryGuidesRequest { sub_mchid: None, store_id: 1234567, userid: None, mobile: Some("13900000000".into()), work_id: None, limit: None, offset: None };
    let found = wx.query_guides(q.clone()).await?;
    for g in &found.data {
        println!("  query     by mobile → {} {} (decrypted with the merchant key)", g.name.clone().unwrap_or_default(), g.mobile.clone().unwrap_or_default());
    }
    wx.update_guide(UpdateGuideRequest {
        guide_id: guide.clone(),
        sub_mchid: None,
        name: Some("张三丰".into()),
        mobile: None,
        qr_code: None,
        avatar: None,
        group_qrcode: None,
    })
    .await?;
    println!("  update    name → 张三丰 (PATCH, 204, empty body signature verified)");
    let after = wx.query_all_guides(QueryGuidesRequest { mobile: None, ..q }).await?;
    println!("  query     all guides of store 1234567 → {}", after.iter().map(|g| g.name.clone().unwrap_or_default()).collect::<Vec<_>>().join(", "));
    emu.add_fault(mendian_emulator::Fault { id: 0, route: "GET /v3/smartguide/guides".into(), kind: mendian_emulator::FaultKind::WechatpayBadSignature, times: Some(1) });
    match wx.query_all_guides(QueryGuidesRequest { sub_mchid: None, store_id: 1234567, userid: None, mobile: None, work_id: None, limit: None, offset: None }).await {
        Err(e) => println!("  a tampered answer → {e}"),
        Ok(_) => println!("  a tampered answer was unexpectedly accepted"),
    }
    Ok(())
}

async fn tmall_workers(emu: &mendian_emulator::Emulator) -> Result<(), Box<dyn std::error::Error>> {
    use mendian::top::*;
    emu.reset();
    let p = emu.profile();
    let mut config = TopConfig::new(p.top_app_key.clone());
    config.options.base_url = Some(p.top_gateway_url.clone());
    config.session = Some(p.top_session.clone());
    let top = TopClient::new(config.clone(), top_app_secret_signer(p.top_app_secret.clone())?)?;
    let worker = |store: &str| WorkerDto {
        address: Some(AddressDto { address_detail: Some("22".into()), address_names: Some(vec!["222".into()]) }),
        biz_type: Some("appliance_install".into()),
        cover_category_ids: Some("123|456".into()),
        handheld_card_pic: None,
        id_card_pic: None,
        id_card_pic_back: None,
        identity_id: Some("330106199001011234".into()),
        name: Some("张三".into()),
        phone: Some(1234567890),
        photo: None,
        provider_id: Some(1),
        provider_name: Some("-".into()),
        register_time: Some("2016-06-28 10:30:00".into()),
        service_areas: Some(vec![DivisionDto { division_names: Some(vec!["-".into()]) }]),
        service_store_code: Some(store.into()),
        service_types: Some(vec!["-".into()]),
        work_type: Some("-".into()),
        service_codes: Some("xxxx|xxxx".into()),
    };
    let r = top.worker_create(WorkerCreateRequest { worker_dto: Some(worker("网点编码")) }, None).await?;
    println!("  worker.create  张三 / 1234567890 / appliance_install → value {}", or_dash(r.result.and_then(|r| r.value)));
    let r = top.worker_update(WorkerUpdateRequest { worker: Some(worker("网点B")) }, None).await?;
    println!("  worker.update  (the document's request, store 网点B) → value {}", or_dash(r.result.and_then(|r| r.value)));
    let r = top.worker_query(WorkerQueryRequest { identity_id: Some("330106199001011234".into()) }, None).await?;
    let dto = r.result.and_then(|r| r.value);
    println!("  worker.query   → {} at {}", dto.as_ref().and_then(|d| d.name.clone()).unwrap_or_default(), dto.and_then(|d| d.service_store_code).unwrap_or_default());
    let r = top
        .worker_delete(WorkerDeleteRequest { name: Some("张三".into()), phone: Some(1234567890), biz_type: Some("appliance_install".into()) }, None)
        .await?;
    println!("  worker.delete  → value {}", or_dash(r.result.and_then(|r| r.value)));
    match top.worker_update(WorkerUpdateRequest { worker: Some(worker("网点C")) }, None).await {
        Err(e) => println!("  worker.update of the deleted worker → {e}"),
        Ok(_) => println!("  worker.update of the deleted worker unexpectedly succeeded"),
    }
    let wrong = TopClient::new(config, top_app_secret_signer("not-the-secret".into())?)?;
    match wrong.worker_query(WorkerQueryRequest { identity_id: Some("x".into()) }, None).await {
        Err(e) => println!("  a wrong app secret → {e}"),
        Ok(_) => println!("  a wrong app secret unexpectedly worked"),
    }
    let signed: Vec<_> = emu.recorded().iter().map(|r| r.body.split('&').find(|kv| kv.starts_with("sign=")).unwrap_or("").to_string()).collect();
    println!("  {} signed form POSTs reached the gateway, e.g. {}", signed.len(), signed.first().cloned().unwrap_or_default());
    Ok(())
}

/// A stand-in for the merchant's 服务器 URL: hands each push (query, body) to the demo and
/// answers `success`, as WeChat expects.
async fn push_listener() -> std::io::Result<(String, tokio::sync::mpsc::UnboundedReceiver<(HashMap<String, String>, String)>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wechat/push", listener.local_addr()?);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = conn.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let len = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").and_then(|v| v.trim().parse().ok())).unwrap_or(0usize);
                    if body.len() < len {
                        continue;
                    }
                    let target = head.split(' ').nth(1).unwrap_or("/");
                    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
                    let query = query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), percent_decode(v))).collect();
                    let _ = tx.send((query, body[..len].to_string()));
                    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nsuccess").await;
                    return;
                }
            });
        }
    });
    Ok((url, rx))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The next push at the listener, verified, decrypted and typed.
async fn next_push(
    receiver: &mendian::wxa::WxaPushReceiver,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(HashMap<String, String>, String)>,
) -> Result<mendian::wxa::WxaPush, Box<dyn std::error::Error>> {
    let (query, body) = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await?.ok_or("the push listener stopped")?;
    Ok(receiver.receive(query, body)?)
}

async fn store_onboarding(emu: &mendian_emulator::Emulator) -> Result<(), Box<dyn std::error::Error>> {
    use mendian::wxa::*;
    emu.reset();
    let p = emu.profile();
    let (url, mut pushes) = push_listener().await?;
    emu.set_wxa_callback(Some(&url), mendian_emulator::PushMode::Safe)?;
    println!("  the emulator pushes audit events in safe mode (AES-256-CBC) to {url}");
    let receiver = WxaPushReceiver::new(WxaPushConfig {
        token: p.wxa_push_token.clone(),
        encoding_aes_key: Some(p.wxa_encoding_aes_key.clone()),
        previous_encoding_aes_key: None,
        appid: p.wxa_appid.clone(),
        max_timestamp_skew_seconds: 300,
        accept_plain_mode: false,
    })?;
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone()))?;
    let config = WxaConfig { options: mendian::ClientOptions::with_base_url(p.wxa_base_url.clone()), ..WxaConfig::new(p.wxa_appid.clone()) };
    let wx = WxaClient::new(config, provider, None)?;

    let cats = wx.get_merchant_category(GetMerchantCategoryRequest {}).await?;
    let second = cats.data.all_category_info.categories.iter().find(|c| c.level == MerchantCategoryLevel::Second).ok_or("no 二级类目")?;
    println!("  get_merchant_category → {} categories; using 二级类目 {} ({})", cats.data.all_category_info.categories.len(), second.id, second.name.clone().unwrap_or_default());
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    match wx.upload_media(UploadMediaRequest { type_: WxaMediaType::Image, media: b"GIF89a\x01\0\x01\0".to_vec() }).await {
        Err(e) => println!("  upload_media of a GIF head image → {e} (nothing sent)"),
        Ok(_) => println!("  upload_media of a GIF was unexpectedly accepted"),
    }
    let media = wx.upload_media(UploadMediaRequest { type_: WxaMediaType::Image, media: png }).await?;
    println!("  upload_media (multipart part `media`, PNG) → media_id {}", media.media_id);
    let apply = ApplyMerchantRequest {
        first_catid: second.father.unwrap_or_default(),
        second_catid: second.id,
        qualification_list: Some(media.media_id.clone()),
        headimg_mediaid: media.media_id.clone(),
        nickname: "龙涤熟食".into(),
        intro: "社区熟食店".into(),
        org_code: None,
        other_files: None,
    };
    match wx.apply_merchant(ApplyMerchantRequest { nickname: "龙a".into(), ..apply.clone() }).await {
        Err(e) => println!("  apply_merchant with nickname 龙a (3 wide) → {e}"),
        Ok(()) => println!("  apply_merchant with a 3-wide nickname was unexpectedly sent"),
    }
    wx.apply_merchant(apply).await?;
    let push = next_push(&receiver, &mut pushes).await?;
    if let WxaEvent::ApplyMerchantAudit { event } = &push.event {
        println!("  ← push apply_merchant_audit_info (encrypted: {}, msg_signature and appid checked): audit {} {:?}", push.encrypted, event.audit_id, event.status);
    }

    let tree = wx.get_district_tree().await?;
    let (province, city, district) = tree
        .iter()
        .find_map(|p| p.cities.iter().find_map(|c| c.districts.first().map(|d| (p.province.clone(), c.city.clone(), d.clone()))))
        .ok_or("no district in get_district")?;
    println!("  get_district → {} provinces; {} → {} → {} (districtid {})", tree.len(), province.fullname, city.fullname, district.fullname, district.id);
    let poi = wx
        .create_map_poi(CreateMapPoiRequest {
            name: "龙涤小区熟食店".into(),
            longitude: "113.323753357".into(),
            latitude: "23.0974903107".into(),
            province: province.fullname.clone(),
            city: city.fullname.clone(),
            district: district.fullname.clone(),
            address: "新港中路397号".into(),
            category: "美食:中餐厅".into(),
            telephone: "020-89190388;13800000000".into(),
            photo: "http://mmbiz.qpic.cn/mmbiz_png/a/0".into(),
            license: "http://mmbiz.qpic.cn/mmbiz_png/b/0".into(),
            introduct: "社区熟食店".into(),
            districtid: district.id.clone(),
            poi_id: None,
        })
        .await?;
    println!("  create_map_poi (answered in the {{error, data}} shape) → base_id {}", poi.data.base_id);
    let map_poi_id = match next_push(&receiver, &mut pushes).await?.event {
        WxaEvent::CreateMapPoiAudit { event } => {
            println!("  ← push create_map_poi_audit_info: {:?}, map_poi_id {}", event.status, event.map_poi_id);
            event.map_poi_id
        }
        other => return Err(format!("unexpected push {other:?}").into()),
    };
    let added = wx
        .add_store(AddStoreRequest {
            map_poi_id,
            pic_list: StorePicList { list: vec!["http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg".into()] },
            contract_phone: "020-89190388".into(),
            hour: "10:00-21:00".into(),
            credential: "22883878-0".into(),
            company_name: None,
            qualification_list: None,
            card_id: String::new(),
            poi_id: None,
        })
        .await?;
    println!("  add_store (pic_list sent as a JSON string inside the JSON) → audit_id {}", added.data.audit_id);
    let poi_id = match next_push(&receiver, &mut pushes).await?.event {
        WxaEvent::AddStoreAudit { event } => {
            println!("  ← push add_store_audit_info: {:?}, poiid {}", event.status, or_dash(event.poiid.as_deref()));
            event.poiid.ok_or("no poiid")?
        }
        other => return Err(format!("unexpected push {other:?}").into()),
    };
    let info = wx.get_store_info(GetStoreInfoRequest { poi_id: poi_id.clone() }).await?;
    println!("  get_store_info → {}, status {}, open {}", info.business.base_info.business_name.clone().unwrap_or_default(), or_dash(info.business.base_info.status), info.business.base_info.open_time.clone().unwrap_or_default());
    let updated = wx
        .update_store(UpdateStoreRequest {
            poi_id: poi_id.clone(),
            map_poi_id: None,
            hour: "09:00-22:00".into(),
            contract_phone: "020-89190388".into(),
            pic_list: StorePicList { list: vec!["http://mmbiz.qpic.cn/mmbiz_jpg/y/0?wx_fmt=jpeg".into()] },
            card_id: String::new(),
        })
        .await?;
    println!("  update_store (hours and a new picture) → has_audit_id {} (0/1 on the wire)", updated.data.has_audit_id);
    if let WxaEvent::ModifyStoreAudit { event } = next_push(&receiver, &mut pushes).await?.event {
        println!("  ← push modify_store_audit_info: audit {} {:?}", event.audit_id, event.status);
    }
    wx.set_store_card(SetStoreCardRequest { poi_id: poi_id.parse()?, card_id: "pabcedfg1234567hijklmn".into() }).await?;
    let card = wx.get_store_card(GetStoreCardRequest { poi_id: poi_id.parse()? }).await?;
    println!("  set_store_card / get_store_card → {}", card.card_id.unwrap_or_default());
    let all = wx.get_all_stores().await?;
    println!("  get_all_stores (pages of 50) → {} store(s)", all.len());
    emu.add_fault(mendian_emulator::Fault { id: 0, route: "*".into(), kind: mendian_emulator::FaultKind::WxaExpireTokens, times: Some(1) });
    wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await?;
    println!("  the token expired mid-flow (42001) → refreshed once and retried; token requests so far: {}", emu.wxa_token_fetches());
    wx.del_store(DelStoreRequest { poi_id: poi_id.clone() }).await?;
    match wx.get_store_info(GetStoreInfoRequest { poi_id }).await {
        Err(e) => println!("  del_store, then get_store_info → {e}"),
        Ok(_) => println!("  the deleted store is unexpectedly still there"),
    }
    Ok(())
}

fn base_update() -> mendian::wechatpay::UpdateGuideRequest {
    mendian::wechatpay::UpdateGuideRequest {
        guide_id: String::new(),
        sub_mchid: None,
        name: None,
        mobile: None,
        qr_code: None,
        avatar: None,
        group_qrcode: None,
    }
}
