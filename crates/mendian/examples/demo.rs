//! The walkthrough behind `cargo xtask demo`: starts the bundled emulator in-process and
//! shows, step by step, what mendian does today. Each platform's flow is added here as its
//! runtime lands.

use std::io::{Read, Write};
use std::net::TcpStream;

use mendian::catalog::{describe_error, endpoints};
use mendian::{MendianError, Platform};

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
    println!("  connection profile: {}", serde_json::to_string(&emu.profile())?);

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
    show("the document's 服务人员信息更新 example", mendian::wechatpay::validate_update_guide_request(doc_example.clone()));
    show("a name with an emoji", mendian::wechatpay::validate_update_guide_request(mendian::wechatpay::UpdateGuideRequest { name: Some("张三😀".into()), ..doc_example.clone() }));
    show("a 24-character, 72-byte name (the limit is 64 bytes before encryption)", mendian::wechatpay::validate_update_guide_request(mendian::wechatpay::UpdateGuideRequest { name: Some("张".repeat(24)), ..doc_example.clone() }));
    show("a 1025-character avatar URL", mendian::wechatpay::validate_update_guide_request(mendian::wechatpay::UpdateGuideRequest { avatar: Some(format!("https://x/{}", "a".repeat(1015))), ..doc_example }));

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
        println!("    #{} {} {} endpoint={} body={}", r["seq"], r["method"], r["path"], r["endpoint"], r["body"]);
    }

    title("6. WeChat Pay 支付即服务: the staff lifecycle");
    staff_lifecycle(&emu).await?;

    title("7. Tmall service-center workers over TOP");
    tmall_workers(&emu).await?;

    emu.stop().await;
    println!("\ndone.");
    Ok(())
}

async fn staff_lifecycle(emu: &mendian_emulator::Emulator) -> Result<(), Box<dyn std::error::Error>> {
    use mendian::wechatpay::*;
    emu.reset();
    let p = emu.profile();
    let mut config = WechatpayConfig::new(p.wechatpay_mchid.clone(), p.wechatpay_merchant_serial_no.clone());
    config.base_url = p.wechatpay_base_url.clone();
    config.backup_base_url = String::new();
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
    println!("  query     all guides of store 1234567 → {:?}", after.iter().map(|g| g.name.clone().unwrap_or_default()).collect::<Vec<_>>());
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
    config.gateway_url = p.top_gateway_url.clone();
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
    println!("  worker.create  张三 / 1234567890 / appliance_install → value={:?}", r.result.and_then(|r| r.value));
    let r = top.worker_update(WorkerUpdateRequest { worker: Some(worker("网点B")) }, None).await?;
    println!("  worker.update  (the document's request, store 网点B) → value={:?}", r.result.and_then(|r| r.value));
    let r = top.worker_query(WorkerQueryRequest { identity_id: Some("330106199001011234".into()) }, None).await?;
    let dto = r.result.and_then(|r| r.value);
    println!("  worker.query   → {} at {}", dto.as_ref().and_then(|d| d.name.clone()).unwrap_or_default(), dto.and_then(|d| d.service_store_code).unwrap_or_default());
    let r = top
        .worker_delete(WorkerDeleteRequest { name: Some("张三".into()), phone: Some(1234567890), biz_type: Some("appliance_install".into()) }, None)
        .await?;
    println!("  worker.delete  → value={:?}", r.result.and_then(|r| r.value));
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
