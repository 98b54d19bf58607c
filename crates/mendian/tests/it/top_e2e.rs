//! TOP end to end against the emulator: the worker lifecycle, platform and business errors,
//! and the retry rules (bans waited out, the daily quota and non-idempotent calls never
//! retried, nothing sent for invalid input).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mendian::top::{
    AddressDto, DivisionDto, TopAppSecretSigner, TopClient, TopConfig, TopSignMethod, WorkerCreateRequest,
    WorkerDeleteRequest, WorkerDto, WorkerQueryRequest, WorkerQuerypageRequest, WorkerUpdateRequest,
};
use mendian::MendianError;
use mendian_emulator::{Emulator, Fault, FaultKind};

pub(crate) fn worker() -> WorkerDto {
    // The document's example WorkerDto.
    WorkerDto {
        address: Some(AddressDto { address_detail: Some("22".into()), address_names: Some(vec!["222".into()]) }),
        biz_type: Some("appliance_install".into()),
        cover_category_ids: Some("123|456".into()),
        handheld_card_pic: Some("-".into()),
        id_card_pic: Some("-".into()),
        id_card_pic_back: Some("-".into()),
        identity_id: Some("330106199001011234".into()),
        name: Some("张三".into()),
        phone: Some(1234567890),
        photo: Some("-".into()),
        provider_id: Some(1),
        provider_name: Some("-".into()),
        register_time: Some("2016-06-28 10:30:00".into()),
        service_areas: Some(vec![DivisionDto { division_names: Some(vec!["-".into()]) }]),
        service_store_code: Some("网点编码".into()),
        service_types: Some(vec!["-".into()]),
        work_type: Some("-".into()),
        service_codes: Some("xxxx|xxxx".into()),
    }
}

fn client(emu: &Emulator, secret: &str, f: impl FnOnce(&mut TopConfig)) -> Arc<TopClient> {
    let p = emu.profile();
    let mut config = TopConfig::new(p.top_app_key.clone());
    config.options.base_url = Some(p.top_gateway_url.clone());
    config.session = Some(p.top_session.clone());
    config.options.timeout_ms = Some(5_000);
    f(&mut config);
    TopClient::new(config, TopAppSecretSigner::new(secret.into()).unwrap()).unwrap()
}

fn api_code(e: &MendianError) -> (&str, Option<&str>) {
    match e {
        MendianError::Api { code, sub_code, .. } => (code, sub_code.as_deref()),
        other => panic!("expected an Api error, got {other:?}"),
    }
}

fn fault(route: &str, body: &str, times: u32) -> Fault {
    Fault {
        id: 0,
        route: route.into(),
        kind: FaultKind::Status { status: 200, body: body.into(), content_type: None },
        times: Some(times),
    }
}

#[tokio::test]
async fn worker_lifecycle_in_every_sign_method_and_envelope() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let secret = emu.profile().top_app_secret;
    for (method, simplify) in
        [(TopSignMethod::HmacSha256, false), (TopSignMethod::Hmac, true), (TopSignMethod::Md5, false)]
    {
        emu.reset();
        let top = client(&emu, &secret, |c| {
            c.sign_method = Some(method);
            c.simplify = simplify;
        });
        let created = top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap();
        assert_eq!(created.result.as_ref().and_then(|r| r.value), Some(true), "{method:?}");

        // The document's update request: same name + phone + biz_type, new details.
        let mut changed = worker();
        changed.service_store_code = Some("网点B".into());
        let updated = top.worker_update(WorkerUpdateRequest { worker: Some(changed) }, None).await.unwrap();
        assert_eq!(updated.result.and_then(|r| r.value), Some(true));

        let found = top
            .worker_query(WorkerQueryRequest { identity_id: Some("330106199001011234".into()) }, None)
            .await
            .unwrap();
        let dto = found.result.and_then(|r| r.value).expect("query returns the worker");
        assert_eq!(dto.service_store_code.as_deref(), Some("网点B"));
        assert_eq!(dto.name.as_deref(), Some("张三"));
        assert_eq!(dto.phone, Some(1234567890));

        let page = top.worker_querypage(WorkerQuerypageRequest { page_index: Some(1) }, None).await.unwrap();
        assert!(page.result.and_then(|r| r.value).unwrap().contains("张三"));

        let deleted = top
            .worker_delete(
                WorkerDeleteRequest {
                    name: Some("张三".into()),
                    phone: Some(1234567890),
                    biz_type: Some("appliance_install".into()),
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(deleted.result.and_then(|r| r.value), Some(true));
    }
    emu.stop().await;
}

#[tokio::test]
async fn errors_carry_the_documents_words() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let p = emu.profile();
    let top = client(&emu, &p.top_app_secret, |_| {});

    // Updating a worker that does not exist: business code 10006 inside a TOP success.
    let e = top.worker_update(WorkerUpdateRequest { worker: Some(worker()) }, None).await.unwrap_err();
    match &e {
        MendianError::Api { code, server_message, description, remedy, .. } => {
            assert_eq!(code, "10006");
            assert_eq!(server_message, "工人不存在");
            assert_eq!(description.as_deref(), Some("工人不存在"));
            assert!(remedy.as_deref().unwrap_or("").contains("worker.create"), "{remedy:?}");
        }
        other => panic!("{other:?}"),
    }

    // A wrong secret: code 25, clearly.
    let wrong = client(&emu, "not-the-secret", |_| {});
    let e = wrong.worker_update(WorkerUpdateRequest { worker: Some(worker()) }, None).await.unwrap_err();
    assert_eq!(api_code(&e), ("25", None));
    assert!(e.to_string().contains("Invalid Signature"), "{e}");
    assert!(!e.to_string().contains("not-the-secret"));

    // A wrong session, given per call: code 27.
    let e =
        top.worker_update(WorkerUpdateRequest { worker: Some(worker()) }, Some("expired".into())).await.unwrap_err();
    assert_eq!(api_code(&e), ("27", Some("invalid-sessionkey")));
    assert!(!e.to_string().contains("expired"));

    // A missing API argument: platform code 40.
    let e = top.worker_query(WorkerQueryRequest { identity_id: None }, None).await.unwrap_err();
    assert_eq!(api_code(&e).0, "40");

    // Creating twice: 10007.
    top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap();
    let e = top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap_err();
    assert_eq!(api_code(&e), ("10007", None));
    emu.stop().await;
}

#[tokio::test]
async fn invalid_input_is_rejected_before_anything_is_sent() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let top = client(&emu, &emu.profile().top_app_secret, |_| {});
    let mut bad = worker();
    bad.register_time = Some("2016/06/28".into());
    let e = top.worker_update(WorkerUpdateRequest { worker: Some(bad) }, None).await.unwrap_err();
    match e {
        MendianError::InvalidArgument { field, .. } => assert_eq!(field, "worker.register_time"),
        other => panic!("{other:?}"),
    }
    assert!(emu.recorded().is_empty(), "nothing reached the gateway");
    emu.stop().await;
}

#[tokio::test]
async fn retries_follow_the_rules() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let top = client(&emu, &emu.profile().top_app_secret, |_| {});
    top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap();
    let update = || WorkerUpdateRequest { worker: Some(worker()) };

    // A per-API ban of 1 second is waited out, then the call succeeds.
    emu.reset();
    top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap();
    emu.add_fault(Fault {
        id: 0,
        route: "/router/rest".into(),
        kind: FaultKind::TopBan { seconds: 2, sub_code: "accesscontrol.limited-by-api-access-count".into() },
        times: Some(1),
    });
    let start = Instant::now();
    top.worker_update(update(), None).await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(2), "waited {:?}", start.elapsed());
    assert_eq!(emu.recorded().len(), 3, "one refused call, one after the ban");

    // A ban longer than the configured cap fails at once.
    let impatient = client(&emu, &emu.profile().top_app_secret, |c| c.max_ban_wait_seconds = 1);
    emu.add_fault(Fault {
        id: 0,
        route: "/router/rest".into(),
        kind: FaultKind::TopBan { seconds: 30, sub_code: "accesscontrol.limited-by-app-api-access-count".into() },
        times: Some(1),
    });
    let start = Instant::now();
    let e = impatient.worker_update(update(), None).await.unwrap_err();
    assert_eq!(api_code(&e), ("7", Some("accesscontrol.limited-by-app-api-access-count")));
    assert!(e.to_string().contains("30 more seconds"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(1));
    emu.reset();
    top.worker_create(WorkerCreateRequest { worker_dto: Some(worker()) }, None).await.unwrap();

    // The daily quota is never retried.
    let before = emu.recorded().len();
    emu.add_fault(fault("/router/rest", r#"{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count","sub_msg":"This ban will last for 1 more seconds"}}"#, 1));
    let e = top.worker_update(update(), None).await.unwrap_err();
    assert_eq!(api_code(&e), ("7", Some("accesscontrol.limited-by-app-access-count")));
    assert_eq!(emu.recorded().len(), before + 1);

    // isp.* errors: retried for update, not for create.
    let isp = r#"{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.top-remote-connection-timeout","sub_msg":"timeout"}}"#;
    emu.add_fault(fault("/router/rest", isp, 1));
    let before = emu.recorded().len();
    top.worker_update(update(), None).await.unwrap();
    assert_eq!(emu.recorded().len(), before + 2);
    emu.add_fault(fault("/router/rest", isp, 1));
    let before = emu.recorded().len();
    let mut other = worker();
    other.name = Some("李四".into());
    let e = top.worker_create(WorkerCreateRequest { worker_dto: Some(other.clone()) }, None).await.unwrap_err();
    assert_eq!(api_code(&e).1, Some("isp.top-remote-connection-timeout"));
    assert_eq!(emu.recorded().len(), before + 1, "worker.create is not retried blindly");

    // A dropped connection: retried for update; for create the outcome is unknown.
    emu.add_fault(Fault { id: 0, route: "/router/rest".into(), kind: FaultKind::Drop, times: Some(1) });
    top.worker_update(update(), None).await.unwrap();
    emu.add_fault(Fault { id: 0, route: "/router/rest".into(), kind: FaultKind::Drop, times: Some(1) });
    let e = top.worker_create(WorkerCreateRequest { worker_dto: Some(other) }, None).await.unwrap_err();
    assert!(matches!(&e, MendianError::OutcomeUnknown { endpoint, .. } if endpoint == "worker_create"), "{e:?}");
    emu.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_says_the_outcome_is_unknown() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let top = client(&emu, &emu.profile().top_app_secret, |c| c.options.timeout_ms = Some(300));
    let create = |name: &str| {
        let mut w = worker();
        w.name = Some(name.into());
        WorkerCreateRequest { worker_dto: Some(w) }
    };
    // Done, then the connection dropped: unknown, sent once, and the worker exists.
    emu.add_fault(Fault { id: 0, route: "/router/rest".into(), kind: FaultKind::DropAfterProcessing, times: Some(1) });
    let e = top.worker_create(create("王五"), None).await.unwrap_err();
    match &e {
        MendianError::OutcomeUnknown { endpoint, reason } => {
            assert_eq!(endpoint, "worker_create");
            assert!(reason.contains("may have reached the platform"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.recorded().len(), 1, "never repeated");
    let again = top.worker_create(create("王五"), None).await.unwrap_err();
    assert!(format!("{again:?}").contains("10007"), "it was created (工人已存在): {again:?}");
    // A timeout after sending: unknown too.
    emu.add_fault(Fault { id: 0, route: "/router/rest".into(), kind: FaultKind::Delay { millis: 1000 }, times: Some(1) });
    let e = top.worker_create(create("赵六"), None).await.unwrap_err();
    assert!(matches!(&e, MendianError::OutcomeUnknown { reason, .. } if reason.contains("timed out")), "{e:?}");
    // Nothing sent (nobody listens): a plain Network error, never "unknown".
    let closed = client(&emu, &emu.profile().top_app_secret, |c| c.options.base_url = Some("http://127.0.0.1:9/router/rest".into()));
    let e = closed.worker_create(create("钱七"), None).await.unwrap_err();
    assert!(matches!(e, MendianError::Network { .. }), "{e:?}");
    // A repeatable call recovers from the same loss by repeating.
    emu.add_fault(Fault { id: 0, route: "/router/rest".into(), kind: FaultKind::DropAfterProcessing, times: Some(1) });
    let mut created = worker();
    created.name = Some("王五".into());
    top.worker_update(WorkerUpdateRequest { worker: Some(created) }, None).await.unwrap_or_else(|e| panic!("{e:?}"));
    emu.stop().await;
}

#[tokio::test]
async fn requests_are_signed_form_posts_with_gmt8_timestamps() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let top = client(&emu, &emu.profile().top_app_secret, |_| {});
    let _ = top.worker_update(WorkerUpdateRequest { worker: Some(worker()) }, None).await;
    let r = &emu.recorded()[0];
    assert_eq!(r.headers["content-type"], "application/x-www-form-urlencoded;charset=UTF-8");
    assert!(r.body.contains("method=tmall.servicecenter.worker.update"));
    assert!(r.body.contains("sign_method=hmac-sha256"));
    assert!(r.body.contains("worker=%7B%22address%22"), "{}", r.body);
    assert!(!r.body.contains("partner_id"), "unset values are not sent");
    emu.stop().await;
}

#[tokio::test]
async fn query_all_workers_walks_the_pages_until_20001() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let top = client(&emu, &emu.profile().top_app_secret, |_| {});
    assert!(top.query_all_workers(None).await.unwrap().is_empty(), "no workers: one empty page, no error");
    // 45 workers are three pages of the emulator's 20; the fourth page answers 20001.
    for i in 0..45 {
        let w = WorkerDto { phone: Some(13_800_000_000 + i), identity_id: Some(format!("id{i}")), ..worker() };
        top.worker_create(WorkerCreateRequest { worker_dto: Some(w) }, None).await.unwrap();
    }
    emu.clear_recorded();
    let pages = top.query_all_workers(None).await.unwrap();
    assert_eq!(pages.len(), 3);
    let workers: usize = pages.iter().map(|p| serde_json::from_str::<Vec<serde_json::Value>>(p).unwrap().len()).sum();
    assert_eq!(workers, 45);
    let asked: Vec<String> = emu
        .recorded()
        .iter()
        .filter_map(|r| r.body.split('&').find_map(|kv| kv.strip_prefix("page_index=")).map(str::to_string))
        .collect();
    assert_eq!(asked, ["1", "2", "3", "4"]);
    emu.stop().await;
}

#[tokio::test]
async fn configurations_with_control_characters_or_blanks_fail_when_built() {
    use mendian::top::{TopAppSecretSigner, TopClient, TopConfig};
    let signer = || TopAppSecretSigner::new("secret".into()).unwrap();
    for (field, config) in [
        ("app_key", TopConfig::new("12345678\r\nX-Injected: 1")),
        ("app_key", TopConfig::new(" 12345678")),
        ("session", TopConfig { session: Some("TOPSECRET\0".into()), ..TopConfig::new("12345678") }),
        ("options.language", {
            let mut c = TopConfig::new("12345678");
            c.options.language = "python\r\nX: 1".into();
            c
        }),
    ] {
        let e = TopClient::new(config, signer()).unwrap_err();
        assert!(matches!(&e, MendianError::InvalidArgument { field: f, .. } if f == field), "{field}: {e:?}");
        assert!(!e.to_string().contains("Injected") && !e.to_string().contains("TOPSECRET"), "values are not echoed: {e}");
    }
}
