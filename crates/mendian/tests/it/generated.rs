//! The generated code, seen from Rust: validation errors name the field and rule, records
//! serialize exactly as the platforms expect (absent optionals omitted, JSON inside JSON),
//! and decoding is forward compatible (unknown enum values kept, ids as numbers or strings).

use mendian::schema::Request;
use mendian::wechatpay::UpdateGuideRequest;
use mendian::wxa::{AddStoreRequest, StoreAuditStatus, StoreBaseInfo, StorePicList};
use mendian::{MendianError, Validate};

/// An update of the avatar alone (an update must set at least one field).
fn update() -> UpdateGuideRequest {
    UpdateGuideRequest {
        guide_id: "LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic".into(),
        sub_mchid: None,
        name: None,
        mobile: None,
        qr_code: None,
        avatar: Some("https://wx.qlogo.cn/a/0".into()),
        group_qrcode: None,
    }
}

fn add_store() -> AddStoreRequest {
    serde_json::from_value(serde_json::json!({
        "map_poi_id": "2880741500279549033",
        "pic_list": "{\"list\":[\"http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg\"]}",
        "contract_phone": "1111222222",
        "hour": "10:00-21:00",
        "credential": "22883878-0",
        "card_id": ""
    }))
    .expect("the document's add_store body decodes")
}

fn invalid(r: Result<(), MendianError>) -> (String, String) {
    match r {
        Err(MendianError::InvalidArgument { field, reason }) => (field, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn absent_optionals_are_omitted_never_null() {
    let mut req = update();
    req.avatar = Some("https://wx.qlogo.cn/a/0".into());
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"guide_id":"LLA3WJ6DSZUfiaZDS79FH5Wm5m4X69TBic","avatar":"https://wx.qlogo.cn/a/0"}"#
    );
}

#[test]
fn the_descriptor_says_where_each_field_goes() {
    let d = UpdateGuideRequest::descriptor();
    assert_eq!((d.method, d.path, d.success_status), ("PATCH", "/v3/smartguide/guides/{guide_id}", 204));
    assert_eq!(d.field("guide_id").unwrap().location, mendian::schema::Location::Path);
    assert!(d.field("name").unwrap().encrypted);
    assert!(!d.field("avatar").unwrap().encrypted);
    assert_eq!(
        AddStoreRequest::descriptor().field("pic_list").unwrap().encoding,
        mendian::schema::Encoding::JsonString
    );
}

#[test]
fn validation_names_the_field_and_the_rule() {
    let mut req = update();
    req.group_qrcode = Some(format!("https://p.qpic.cn/{}", "a".repeat(250)));
    let (field, reason) = invalid(req.validate());
    assert_eq!(field, "group_qrcode");
    assert_eq!(reason, "must be at most 256 characters (got 268)");

    let mut req = update();
    req.mobile = Some("1".repeat(33));
    let (field, reason) = invalid(req.validate());
    assert_eq!(field, "mobile");
    assert!(reason.contains("at most 32 bytes of UTF-8 before encryption"), "{reason}");

    let mut req = update();
    req.guide_id = "g".repeat(65);
    assert_eq!(invalid(req.validate()).0, "guide_id");
    assert!(update().validate().is_ok());

    // Nothing to update: the group is named; a wrong field is still named first.
    let empty = UpdateGuideRequest { avatar: None, ..update() };
    let (field, reason) = invalid(empty.validate());
    assert_eq!(field, "request");
    assert_eq!(reason, "sets none of name, mobile, qr_code, avatar, group_qrcode: at least one is needed, or there is nothing to send");
    assert_eq!(invalid(UpdateGuideRequest { guide_id: String::new(), ..empty }.validate()).0, "guide_id");
}

#[test]
fn pic_list_travels_as_a_json_string_and_items_are_checked() {
    let mut req = add_store();
    assert!(req.validate().is_ok());
    let body = serde_json::to_value(&req).unwrap();
    assert_eq!(body["pic_list"], "{\"list\":[\"http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg\"]}");
    req.pic_list = StorePicList { list: vec!["http://a/0".into(), "not a url".into()] };
    assert_eq!(invalid(req.validate()).0, "pic_list.list[1]");
    let mut req = add_store();
    req.hour = "10:00~21:00".into();
    let (field, reason) = invalid(req.validate());
    assert_eq!(field, "hour");
    assert!(reason.contains("HH:MM-HH:MM"), "{reason}");
}

#[test]
fn decoding_is_lenient_and_forward_compatible() {
    let info: StoreBaseInfo = serde_json::from_str(
        r#"{"business_name":"龙涤小区熟食店","longitude":"126.94355011","latitude":45.556098938,"poi_id":472671857,"status":9,"new_field":1}"#,
    )
    .unwrap();
    assert_eq!(info.poi_id.as_deref(), Some("472671857"));
    assert_eq!(info.longitude, Some(126.94355011));
    assert_eq!(info.status, Some(StoreAuditStatus::Unknown { value: 9 }));
    let known: StoreBaseInfo = serde_json::from_str(r#"{"status":"2"}"#).unwrap();
    assert_eq!(known.status.as_ref().map(|s| s.wire_value()), Some(2));
    // An unknown value is sent back exactly as it came.
    assert_eq!(serde_json::to_value(&info).unwrap()["status"], 9);
}

#[test]
fn error_tables_carry_the_documents_words() {
    let d = mendian::catalog::descriptor("update_guide").unwrap();
    let e = d.lookup_error("PARAM_ERROR", None, "员工姓名过长").unwrap();
    assert_eq!(e.description, "员工姓名过长");
    assert_eq!(e.status, Some(400));
    let sys = d.lookup_error("SYSTEM_ERROR", None, "").unwrap();
    assert!(sys.retryable);
    let d = mendian::catalog::descriptor("add_store").unwrap();
    assert_eq!(d.lookup_error("85038", None, "").unwrap().description, "请勿添加重复门店");
}

#[test]
fn endpoint_ids_are_unique_and_resolve() {
    let eps = mendian::catalog::endpoints();
    let mut ids: Vec<_> = eps.iter().map(|e| e.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), eps.len());
    for e in &eps {
        assert!(mendian::catalog::descriptor(&e.id).is_some());
    }
}

#[test]
fn top_worker_is_a_compact_json_string_with_snake_case_names() {
    use mendian::top::{WorkerDto, WorkerUpdateRequest};
    let worker: WorkerDto = serde_json::from_value(serde_json::json!({
        "name": "张三", "phone": "1234567890", "register_time": "2016-06-28 10:30:00", "biz_type": "appliance_install"
    }))
    .unwrap();
    assert_eq!(worker.phone, Some(1234567890), "numbers may arrive as strings");
    let req = WorkerUpdateRequest { worker: Some(worker) };
    assert!(req.validate().is_ok());
    let form = serde_json::to_value(&req).unwrap();
    assert_eq!(
        form["worker"],
        r#"{"biz_type":"appliance_install","name":"张三","phone":1234567890,"register_time":"2016-06-28 10:30:00"}"#
    );
    assert_eq!(WorkerUpdateRequest::descriptor().api_name, Some("tmall.servicecenter.worker.update"));
}

#[test]
fn a_create_never_calls_its_system_error_retryable() {
    // After 系统错误 the create may have happened: an app that repeats it blindly gets
    // 工人已存在 / a duplicate store. The remedy says to look first.
    for (id, code) in [("worker_create", "100000"), ("add_store", "-1")] {
        let d = mendian::catalog::descriptor(id).unwrap();
        assert_eq!(d.retry, mendian::schema::Retry::Never, "{id}");
        let e = d.lookup_error(code, None, "").unwrap();
        assert!(!e.retryable, "{id} {code}");
        assert!(e.remedy.is_some(), "{id} {code}");
    }
}

#[test]
fn our_remedies_are_marked_as_ours() {
    // The worker pages list codes without remedies; WeChat Pay's update page gives its own.
    let ours = mendian::catalog::describe_error("worker_create".into(), "10007".into(), None, String::new()).unwrap().unwrap();
    assert!(ours.remedy.is_some() && ours.remedy_inferred, "{ours:?}");
    let documented = mendian::catalog::describe_error("update_guide".into(), "PARAM_ERROR".into(), None, String::new()).unwrap().unwrap();
    assert!(documented.remedy.is_some() && !documented.remedy_inferred, "{documented:?}");
}

#[test]
fn pipe_joined_media_ids_are_counted() {
    // 支持0~5个mediaid, joined with | in one string.
    let ids = |n: usize| (0..n).map(|i| format!("media{i}")).collect::<Vec<_>>().join("|");
    let req = |n: usize| mendian::wxa::ApplyMerchantRequest {
        first_catid: 476,
        second_catid: 477,
        qualification_list: Some(ids(n)),
        headimg_mediaid: "media".into(),
        nickname: "门店小程序测试".into(),
        intro: "门店介绍".into(),
        org_code: None,
        other_files: None,
    };
    assert!(req(5).validate().is_ok());
    let (field, reason) = invalid(req(6).validate());
    assert_eq!((field.as_str(), reason.as_str()), ("qualification_list", "must have at most 5 items (got 6)"));
}
