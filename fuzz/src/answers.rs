//! The three answer envelopes and the typed decoding behind them, per endpoint:
//!
//! - [`wechatpay_answer`]: `WechatpayClient::read_response` (status, signature over the raw
//!   body, JSON, encrypted fields, the endpoint's response record; the `Api` error of a
//!   non-2xx answer);
//! - [`wxa_answer`]: the 门店小程序 JSON envelope (`errcode`/`errmsg`, the Tencent-map and
//!   map-POI variants) read as the client reads it (`read_answer`: the record straight from
//!   the bytes where it can be), which must agree with the general reading through a `Value`
//!   (`read_answer_general`: `parse_json`, `envelope_error`, `decode_payload`), and the
//!   district tree of a get_district answer;
//! - [`top_answer`]: `top::envelope::decode` (wrapped, simplified and error envelopes, the
//!   worker business layer, control characters inside strings), the response record, and the
//!   ban length of an error message.
//!
//! A decoded record must survive a round trip: serialized and decoded again it is unchanged.

// `MendianError` is the one error type that crosses the FFI; it is large by design.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;

use mendian::runtime::errors::{decode_payload, parse_json};
use mendian::runtime::transport::HttpResponse;
use mendian::schema::{EndpointDescriptor, Request};
use mendian::top::envelope;
use mendian::wxa::client::{envelope_error, read_answer, read_answer_general};
use mendian::MendianError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::block_on::block_on;
use crate::fixtures::{sign_answer, wechatpay_client, NOW, PUBLIC_KEY_ID};
use crate::input::{fields, selector, text};
use crate::Outcome;

/// A decoded response record, serialized and decoded again, must be unchanged.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(d: &EndpointDescriptor, decoded: &T) {
    let value = serde_json::to_value(decoded).expect("a response record serializes");
    let again: T = decode_payload(d, value.clone())
        .unwrap_or_else(|e| panic!("{}: a serialized response record does not decode again: {e}\n{value}", d.id));
    assert_eq!(&again, decoded, "{}: the response record changed in a round trip", d.id);
}

/// The HTTP status on the first line (digits), 200 when it is not a status.
fn status(line: &[u8]) -> u16 {
    std::str::from_utf8(line).ok().and_then(|s| s.trim().parse().ok()).filter(|s| (100..600).contains(s)).unwrap_or(200)
}

// --- WeChat Pay -------------------------------------------------------------------------

/// How the fuzzed WeChat Pay answer is signed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signing {
    /// Correctly, by the trusted key, now.
    Valid,
    /// Correctly, then one byte appended to the body.
    Tampered,
    /// With the `WECHATPAY/SIGNTEST/` prefix of a probe.
    Probe,
    /// Headers taken from the input.
    FromInput,
}

/// WeChat Pay answers. The selector byte picks the endpoint (`% 5`: register, assign, query,
/// update, download certificates) and the signing (`/ 5 % 4`: valid, tampered, probe,
/// from the input). Lines: the HTTP status, then (signing from the input only) the
/// `Wechatpay-Timestamp`, `-Nonce` and `-Signature`, then the body.
///
/// Only a correctly signed answer may be accepted; a correctly signed 2xx answer may fail
/// only to decode, never its signature check.
pub fn wechatpay_answer(data: &[u8]) -> Outcome {
    use mendian::wechatpay::*;
    let (sel, rest) = selector(data);
    let signing = [Signing::Valid, Signing::Tampered, Signing::Probe, Signing::FromInput][(sel as usize / 5) % 4];
    match sel % 5 {
        0 => wechatpay_read::<RegisterGuideRequest>(signing, rest),
        1 => wechatpay_read::<AssignGuideRequest>(signing, rest),
        2 => wechatpay_read::<QueryGuidesRequest>(signing, rest),
        3 => wechatpay_read::<UpdateGuideRequest>(signing, rest),
        _ => wechatpay_read::<DownloadCertificatesRequest>(signing, rest),
    }
}

fn wechatpay_read<R>(signing: Signing, rest: &[u8]) -> Outcome
where
    R: Request,
    R::Response: Serialize + PartialEq + Debug,
{
    let d = R::descriptor();
    let (code, headers, body) = if signing == Signing::FromInput {
        let f = fields(rest, 5);
        let headers = vec![(text(f[1]), text(f[2]), text(f[3]))];
        (status(f[0]), headers, f[4].to_vec())
    } else {
        let f = fields(rest, 2);
        let (ts, nonce) = (NOW.to_string(), "593BEC0C930BF1AFEB40B4A08C8FB242".to_string());
        let sig = sign_answer(&ts, &nonce, f[1]);
        let mut body = f[1].to_vec();
        let sig = match signing {
            Signing::Tampered => {
                body.push(b' ');
                sig
            }
            Signing::Probe => format!("WECHATPAY/SIGNTEST/{sig}"),
            _ => sig,
        };
        (status(f[0]), vec![(ts, nonce, sig)], body)
    };
    let (ts, nonce, sig) = headers.into_iter().next().expect("one set of headers");
    let resp = HttpResponse {
        status: code,
        headers: vec![
            ("wechatpay-timestamp".into(), ts),
            ("wechatpay-nonce".into(), nonce),
            ("wechatpay-signature".into(), sig),
            ("wechatpay-serial".into(), PUBLIC_KEY_ID.into()),
            ("request-id".into(), "08F78BB5AF0610D302A4C1D1".into()),
        ],
        body,
    };
    let signed = format!("{}\n{}\n{NOW}\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n", d.method, d.path);
    let result = block_on(wechatpay_client().read_response::<R>(&resp, &signed));
    let success = (200..300).contains(&code);
    match &result {
        Ok(decoded) => {
            assert!(success && signing == Signing::Valid, "{}: accepted a {signing:?} answer with HTTP {code}", d.id);
            round_trip(d, decoded);
        }
        Err(MendianError::Signature { reason }) => {
            assert!(signing != Signing::Valid, "{}: a correctly signed answer failed verification: {reason}", d.id)
        }
        Err(MendianError::Api { .. }) => assert!(!success, "{}: a 2xx answer became an Api error", d.id),
        Err(_) => {}
    }
    Outcome::of(&result)
}

// --- 门店小程序 -----------------------------------------------------------------------------

/// 门店小程序 answers. The selector byte picks the endpoint (`% 18`, in the order of
/// `wxa::ENDPOINTS`); lines: the HTTP status, then the body.
pub fn wxa_answer(data: &[u8]) -> Outcome {
    use mendian::wxa::*;
    let (sel, rest) = selector(data);
    let f = fields(rest, 2);
    let (code, body) = (status(f[0]), f[1]);
    match sel % 18 {
        0 => wxa_read::<GetMerchantCategoryRequest>(code, body),
        1 => wxa_read::<ApplyMerchantRequest>(code, body),
        2 => wxa_read::<GetMerchantAuditInfoRequest>(code, body),
        3 => wxa_read::<ModifyMerchantRequest>(code, body),
        4 => {
            let response = wxa_read_typed::<GetDistrictRequest>(code, body);
            match response {
                Ok(r) => Outcome::of(&wxa_district_tree(r)),
                Err(_) => Outcome::Rejected,
            }
        }
        5 => wxa_read::<SearchMapPoiRequest>(code, body),
        6 => wxa_read::<CreateMapPoiRequest>(code, body),
        7 => wxa_read::<AddStoreRequest>(code, body),
        8 => wxa_read::<UpdateStoreRequest>(code, body),
        9 => wxa_read::<GetStoreInfoRequest>(code, body),
        10 => wxa_read::<GetStoreListRequest>(code, body),
        11 => wxa_read::<DelStoreRequest>(code, body),
        12 => wxa_read::<GetPoiListRequest>(code, body),
        13 => wxa_read::<GetStoreCardRequest>(code, body),
        14 => wxa_read::<SetStoreCardRequest>(code, body),
        15 => wxa_read::<GetStableAccessTokenRequest>(code, body),
        16 => wxa_read::<GetAccessTokenRequest>(code, body),
        _ => wxa_read::<UploadMediaRequest>(code, body),
    }
}

fn wxa_read<R>(code: u16, body: &[u8]) -> Outcome
where
    R: Request,
    R::Response: Serialize + PartialEq + Debug,
{
    Outcome::of(&wxa_read_typed::<R>(code, body))
}

/// The 门店小程序 client's reading of an answer to `R`, held to the general one.
fn wxa_read_typed<R>(code: u16, body: &[u8]) -> Result<R::Response, MendianError>
where
    R: Request,
    R::Response: Serialize + PartialEq + Debug,
{
    let d = R::descriptor();
    let read = read_answer::<R::Response>(d, code, body);
    let general = read_answer_general::<R::Response>(d, code, body);
    assert_eq!(
        format!("{read:?}"),
        format!("{general:?}"),
        "{}: the direct reading differs from the general one",
        d.id
    );
    if let Ok(v) = parse_json::<serde_json::Value>(d, code, body) {
        if let Some(err) = envelope_error(d, &v) {
            assert!(matches!(err, MendianError::Api { .. }), "{}: the envelope error is not an Api error: {err:?}", d.id);
        }
    }
    let decoded = read?;
    round_trip(d, &decoded);
    Ok(decoded)
}

// --- TOP --------------------------------------------------------------------------------

/// TOP answers. The selector byte picks the worker API (`% 5`: update, create, delete,
/// query, querypage); lines: the HTTP status, then the body.
///
/// `sanitize_json` must leave JSON that already parses unchanged in meaning.
pub fn top_answer(data: &[u8]) -> Outcome {
    use mendian::top::*;
    let (sel, rest) = selector(data);
    let f = fields(rest, 2);
    let (code, body) = (status(f[0]), f[1]);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let sanitized: serde_json::Value =
            serde_json::from_slice(&envelope::sanitize_json(body)).expect("sanitized valid JSON still parses");
        assert_eq!(sanitized, v, "sanitize_json changed valid JSON");
    }
    match sel % 5 {
        0 => top_read::<WorkerUpdateRequest>(code, body),
        1 => top_read::<WorkerCreateRequest>(code, body),
        2 => top_read::<WorkerDeleteRequest>(code, body),
        3 => top_read::<WorkerQueryRequest>(code, body),
        _ => top_read::<WorkerQuerypageRequest>(code, body),
    }
}

fn top_read<R>(code: u16, body: &[u8]) -> Outcome
where
    R: Request,
    R::Response: Serialize + PartialEq + Debug,
{
    let d = R::descriptor();
    let result = envelope::decode(d, code, body).and_then(|payload| decode_payload::<R::Response>(d, payload));
    match &result {
        Ok(decoded) => round_trip(d, decoded),
        Err(MendianError::Api { server_message, .. }) => {
            let _ = envelope::ban_seconds(server_message);
        }
        Err(_) => {}
    }
    Outcome::of(&result)
}
