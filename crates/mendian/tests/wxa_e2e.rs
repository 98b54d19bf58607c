//! 门店小程序 end to end against the emulator: tokens (stable and classic, expiry mid-flow,
//! 200 concurrent callers), the store onboarding calls, and the documented errors.

use std::sync::Arc;
use std::time::Duration;

use mendian::wxa::*;
use mendian::MendianError;
use mendian_emulator::{Emulator, Fault, FaultKind};

fn client(emu: &Emulator, classic: bool) -> Arc<WxaClient> {
    let p = emu.profile();
    let provider = if classic {
        wxa_classic_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    } else {
        wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone())).unwrap()
    };
    let mut c = WxaConfig::new(p.wxa_appid.clone());
    c.base_url = p.wxa_base_url.clone();
    c.backup_base_url = String::new();
    WxaClient::new(c, provider, None).unwrap()
}

fn code(e: &MendianError) -> &str {
    match e {
        MendianError::Api { code, .. } => code,
        other => panic!("expected Api, got {other:?}"),
    }
}

#[tokio::test]
async fn store_onboarding_flow() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, false);
    let cats = wx.get_merchant_category(GetMerchantCategoryRequest {}).await.unwrap();
    assert!(cats.data.all_category_info.categories.iter().any(|c| c.name.as_deref() == Some("便利店")));

    wx.apply_merchant(ApplyMerchantRequest {
        first_catid: 278,
        second_catid: 280,
        qualification_list: None,
        headimg_mediaid: "MEDIA_ID".into(),
        nickname: "门店小程序测试".into(),
        intro: "门店介绍".into(),
        org_code: None,
        other_files: None,
    })
    .await
    .unwrap();
    let audit = wx.get_merchant_audit_info(GetMerchantAuditInfoRequest {}).await.unwrap();
    assert_eq!(audit.data.status, MerchantAuditStatus::Approved);

    let d = wx.get_district(GetDistrictRequest {}).await.unwrap();
    assert_eq!(d.data_version.as_deref(), Some("20170510"));

    let created = wx
        .create_map_poi(CreateMapPoiRequest {
            name: "龙涤小区熟食店".into(),
            longitude: "113.323753357".into(),
            latitude: "23.0974903107".into(),
            province: "广东省".into(),
            city: "广州市".into(),
            district: "海珠区".into(),
            address: "TIT".into(),
            category: "美食:中餐厅".into(),
            telephone: "020-89190388".into(),
            photo: "http://mmbiz.qpic.cn/mmbiz_png/a/0".into(),
            license: "http://mmbiz.qpic.cn/mmbiz_png/b/0".into(),
            introduct: "test".into(),
            districtid: "440105".into(),
            poi_id: None,
        })
        .await
        .unwrap();
    assert!(created.data.base_id > 0);
    let found = wx.search_map_poi(SearchMapPoiRequest { districtid: 440105, keyword: "熟食".into() }).await.unwrap();
    let uid = found.data.item[0].sosomap_poi_uid.clone();

    let added = wx
        .add_store(AddStoreRequest {
            map_poi_id: uid.clone(),
            pic_list: StorePicList { list: vec!["http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg".into()] },
            contract_phone: "020-89190388".into(),
            hour: "10:00-21:00".into(),
            credential: "22883878-0".into(),
            company_name: None,
            qualification_list: None,
            card_id: "".into(),
            poi_id: None,
        })
        .await
        .unwrap();
    assert!(added.data.audit_id > 0);
    let list = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 0 }).await.unwrap();
    assert_eq!(list.total_count, Some(1));
    let store = list.business_list[0].base_info.clone();
    let poi_id = store.poi_id.clone().unwrap();
    assert_eq!(store.status, Some(StoreAuditStatus::Approved));
    assert_eq!(store.photo_list.unwrap()[0].photo_url, "http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg");

    let updated = wx
        .update_store(UpdateStoreRequest {
            map_poi_id: None,
            poi_id: poi_id.clone(),
            hour: "09:00-22:00".into(),
            contract_phone: "020-89190388".into(),
            pic_list: StorePicList { list: vec!["http://mmbiz.qpic.cn/mmbiz_jpg/y/0?wx_fmt=jpeg".into()] },
            card_id: "".into(),
        })
        .await
        .unwrap();
    assert!(updated.data.has_audit_id, "0/1 on the wire, a bool here");
    let info = wx.get_store_info(GetStoreInfoRequest { poi_id: poi_id.clone() }).await.unwrap();
    assert_eq!(info.business.base_info.open_time.as_deref(), Some("09:00-22:00"));

    wx.set_store_card(SetStoreCardRequest { poi_id: poi_id.parse().unwrap(), card_id: "pabcedfg1234567hijklmn".into() }).await.unwrap();
    let card = wx.get_store_card(GetStoreCardRequest { poi_id: poi_id.parse().unwrap() }).await.unwrap();
    assert_eq!(card.card_id.as_deref(), Some("pabcedfg1234567hijklmn"));

    wx.del_store(DelStoreRequest { poi_id: poi_id.clone() }).await.unwrap();
    let e = wx.get_store_info(GetStoreInfoRequest { poi_id }).await.unwrap_err();
    assert_eq!(code(&e), "65115");
    match e {
        MendianError::Api { description, request_id, .. } => {
            assert_eq!(description.as_deref(), Some("门店不存在"));
            assert!(request_id.is_some(), "rid read from errmsg");
        }
        _ => unreachable!(),
    }
    // Only the first call fetched a token.
    assert_eq!(emu.wxa_token_fetches(), 1);
    // The token never appears in an error.
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
    emu.add_fault(Fault { id: 0, route: "POST /cgi-bin/stable_token".into(), kind: FaultKind::Delay { millis: 300 }, times: None });
    let wx = client(&emu, false);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let wx = wx.clone();
        tasks.push(tokio::spawn(async move { wx.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(emu.wxa_token_fetches(), 1);
    emu.stop().await;
}

#[tokio::test]
async fn errors_and_bad_input() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let wx = client(&emu, false);
    // Invalid input: nothing is sent, not even a token request.
    let e = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 51 }).await.unwrap_err();
    assert!(matches!(e, MendianError::InvalidArgument { ref field, .. } if field == "limit"), "{e:?}");
    assert!(emu.recorded().is_empty());
    // A wrong secret: the token endpoint's errcode, without the secret in the error.
    let p = emu.profile();
    let bad = WxaClient::new(
        WxaConfig { base_url: p.wxa_base_url.clone(), backup_base_url: String::new(), ..WxaConfig::new(p.wxa_appid.clone()) },
        wxa_stable_token_provider(p.wxa_appid.clone(), "wrong-secret".into(), Some(p.wxa_base_url.clone())).unwrap(),
        None,
    )
    .unwrap();
    let e = bad.get_store_list(GetStoreListRequest { offset: 0, limit: 1 }).await.unwrap_err();
    assert_eq!(code(&e), "40125");
    assert!(!e.to_string().contains("wrong-secret"));
    // A map POI that does not exist.
    let e = wx
        .add_store(AddStoreRequest {
            map_poi_id: "1".into(),
            pic_list: StorePicList { list: vec![] },
            contract_phone: "020-89190388".into(),
            hour: "10:00-21:00".into(),
            credential: "22883878-0".into(),
            company_name: None,
            qualification_list: None,
            card_id: "".into(),
            poi_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(code(&e), "85055");
    // Audits that take time: the merchant is 审核中 until the delay passes.
    emu.set_wxa_audit_delay(Duration::from_secs(60));
    wx.apply_merchant(ApplyMerchantRequest {
        first_catid: 278,
        second_catid: 280,
        qualification_list: None,
        headimg_mediaid: "MEDIA_ID".into(),
        nickname: "门店小程序测试".into(),
        intro: "门店介绍".into(),
        org_code: None,
        other_files: None,
    })
    .await
    .unwrap();
    let audit = wx.get_merchant_audit_info(GetMerchantAuditInfoRequest {}).await.unwrap();
    assert_eq!(audit.data.status, MerchantAuditStatus::InReview);
    emu.stop().await;
}
