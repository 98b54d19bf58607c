//! `cargo xtask bench` (second part): 门店小程序 calls per second against the bundled emulator
//! on loopback, next to plain reqwest doing the same HTTP exchange without the SDK.
//!
//! Both sides send `POST /wxa/get_store_list?access_token=…` with the same JSON body to the
//! same in-process emulator and decode the answer: the SDK through `WxaClient` (validation,
//! token cache, envelope check, typed decoding into `GetStoreListResponse`), the baseline
//! with one shared `reqwest::Client`, a fixed token and `serde_json::Value` plus an errcode
//! check. The difference is what the SDK costs per call. Each round measures both, in
//! alternating order, sequentially (one call at a time: latency) and with 16 calls in flight
//! (throughput); the report gives medians over the rounds and the ratios, from one run.

use std::sync::Arc;
use std::time::Instant;

use mendian::wxa::*;
use mendian_emulator::Emulator;

const IN_FLIGHT: usize = 16;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

/// Creates one approved map POI and one store so the listed page is not empty.
async fn seed(wx: &WxaClient) {
    let created = wx
        .create_map_poi(CreateMapPoiRequest {
            name: "龙涤小区熟食店".into(),
            longitude: "113.323753357".into(),
            latitude: "23.0974903107".into(),
            province: "广东省".into(),
            city: "广州市".into(),
            district: "海珠区".into(),
            address: "新港中路397号".into(),
            category: "美食:中餐厅".into(),
            telephone: "020-89190388".into(),
            photo: "http://mmbiz.qpic.cn/mmbiz_png/a/0".into(),
            license: "http://mmbiz.qpic.cn/mmbiz_png/b/0".into(),
            introduct: "bench".into(),
            districtid: "440105".into(),
            poi_id: None,
        })
        .await
        .expect("create_map_poi");
    assert!(created.data.base_id > 0);
    let found = wx
        .search_map_poi(SearchMapPoiRequest { districtid: 440105, keyword: "熟食".into() })
        .await
        .expect("search_map_poi");
    let uid = found.data.item.first().expect("the created POI is found").sosomap_poi_uid.clone();
    wx.add_store(AddStoreRequest {
        map_poi_id: uid,
        pic_list: StorePicList { list: vec!["http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg".into()] },
        contract_phone: "020-89190388".into(),
        hour: "10:00-21:00".into(),
        credential: "22883878-0".into(),
        company_name: None,
        qualification_list: None,
        card_id: String::new(),
        poi_id: None,
    })
    .await
    .expect("add_store");
}

async fn sdk_call(wx: &WxaClient) {
    let page = wx.get_store_list(GetStoreListRequest { offset: 0, limit: 10 }).await.expect("get_store_list");
    assert_eq!(page.business_list.len(), 1);
}

async fn raw_call(http: &reqwest::Client, url: &str) {
    let body = r#"{"offset":0,"limit":10}"#;
    let resp = http.post(url).header("content-type", "application/json").body(body).send().await.expect("send");
    let bytes = resp.bytes().await.expect("body");
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(v["errcode"].as_i64(), Some(0));
    assert_eq!(v["business_list"].as_array().map(Vec::len), Some(1));
}

/// Calls per second of `calls` calls, `in_flight` at a time.
async fn rate<F, Fut>(calls: usize, in_flight: usize, f: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    let mut done = 0;
    while done < calls {
        let batch = in_flight.min(calls - done);
        join_all((0..batch).map(|_| f())).await;
        done += batch;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

/// Awaits every future concurrently on the current task.
async fn join_all<Fut: std::future::Future<Output = ()>>(futs: impl Iterator<Item = Fut>) {
    let mut set: Vec<std::pin::Pin<Box<Fut>>> = futs.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let calls: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let rounds = 5;
    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let p = emu.profile();
    let provider = wxa_stable_token_provider(p.wxa_appid.clone(), p.wxa_secret.clone(), Some(p.wxa_base_url.clone()))
        .expect("provider");
    let config = WxaConfig {
        options: mendian::ClientOptions::with_base_url(p.wxa_base_url.clone()),
        ..WxaConfig::new(p.wxa_appid.clone())
    };
    let wx: Arc<WxaClient> = WxaClient::new(config, provider, None).expect("client");
    seed(&wx).await;
    let token = wx.access_token().await.expect("token");
    let http = reqwest::Client::new();
    let url = format!("{}/wxa/get_store_list?access_token={token}", p.wxa_base_url);
    // Warm both paths (connection pools, allocator).
    for _ in 0..50 {
        sdk_call(&wx).await;
        raw_call(&http, &url).await;
    }

    let (mut sdk_seq, mut raw_seq, mut sdk_par, mut raw_par) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // Forget recorded requests so the emulator's log does not grow across rounds.
        emu.clear_recorded();
        let sdk_first = round % 2 == 0;
        for first in [sdk_first, !sdk_first] {
            if first {
                sdk_seq.push(rate(calls, 1, || sdk_call(&wx)).await);
                sdk_par.push(rate(calls, IN_FLIGHT, || sdk_call(&wx)).await);
            } else {
                raw_seq.push(rate(calls, 1, || raw_call(&http, &url)).await);
                raw_par.push(rate(calls, IN_FLIGHT, || raw_call(&http, &url)).await);
            }
        }
    }
    let (ss, rs, sp, rp) = (median(sdk_seq), median(raw_seq), median(sdk_par), median(raw_par));
    println!("门店小程序 get_store_list against the emulator on loopback: {calls} calls per measurement, median of {rounds} rounds");
    println!("| measurement | calls/s | SDK ÷ plain reqwest |");
    println!("|---|---:|---:|");
    println!("| plain reqwest, one at a time | {rs:.0} | |");
    println!("| mendian `WxaClient`, one at a time | {ss:.0} | {:.2} |", ss / rs);
    println!("| plain reqwest, {IN_FLIGHT} in flight | {rp:.0} | |");
    println!("| mendian `WxaClient`, {IN_FLIGHT} in flight | {sp:.0} | {:.2} |", sp / rp);
    assert_eq!(emu.wxa_token_fetches(), 1, "the SDK fetched its token once");
    emu.stop().await;
}
