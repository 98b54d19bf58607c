//! `WechatpayClient`: one generic APIv3 call path for every 支付即服务 endpoint.
//!
//! A call validates the request record, fills the 服务商 `sub_mchid` when configured,
//! encrypts the spec's sensitive fields with the current WeChat Pay key, builds the path,
//! the percent-encoded query and the JSON body (serialized once), signs exactly those bytes,
//! and hands them to the call engine (`crate::runtime`), which fails over, retries and keeps
//! the deadline. This module supplies only the WeChat Pay protocol: signing each attempt,
//! verifying the answer's signature over its raw bytes, decrypting encrypted answer fields,
//! and classifying failures. Errors carry the spec's description and remedy for the code.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::{self, WechatpayMerchantSigner};
use super::trust::{PlatformCert, TrustStore};
use crate::crypto::{aes_gcm_decrypt, b64, b64_decode, random_nonce, RsaPublicKey};
use crate::error::MendianError;
use crate::generated::wechatpay::{DownloadCertificatesResponse, DOWNLOAD_CERTIFICATES};
use crate::runtime::encode::{lay_out, to_value};
use crate::runtime::engine::transport_failure;
use crate::runtime::errors::{api_error, decode_error, decode_payload, ApiAnswer};
use crate::runtime::options::check_id;
use crate::runtime::transport::{HttpRequest, HttpResponse};
use crate::runtime::{system_clock, ClientOptions, Clock, Engine, Failure, PlatformDefaults, Protocol};
use crate::schema::{EndpointDescriptor, Request};

/// The primary APIv3 host (`base_url` of `spec/wechatpay.toml`).
pub const WECHATPAY_BASE_URL: &str = crate::generated::wechatpay::BASE_URL;
/// The backup host used when the primary cannot be reached (`backup_base_url` of the spec).
pub const WECHATPAY_BACKUP_BASE_URL: &str = match crate::generated::wechatpay::BACKUP_BASE_URL {
    Some(url) => url,
    None => panic!("spec/wechatpay.toml names a backup_base_url"),
};

/// How a [`WechatpayClient`] authenticates and whom it trusts.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct WechatpayConfig {
    /// 商户号 (`mchid`); for a 服务商, the 服务商's own mchid.
    pub mchid: String,
    /// Serial number of the merchant API certificate (`serial_no` in `Authorization`).
    pub merchant_serial_no: String,
    /// 服务商 mode: the sub-merchant (`sub_mchid`) used when a request does not name one.
    #[uniffi(default)]
    pub sub_mchid: Option<String>,
    /// The 32-byte APIv3 key: needed to download platform certificates and to decrypt
    /// notifications.
    #[uniffi(default)]
    pub apiv3_key: Option<String>,
    /// WeChat Pay public key id (`PUB_KEY_ID_…`), for public-key mode.
    #[uniffi(default)]
    pub wechatpay_public_key_id: Option<String>,
    /// WeChat Pay public key (`-----BEGIN PUBLIC KEY-----`), for public-key mode.
    #[uniffi(default)]
    pub wechatpay_public_key_pem: Option<String>,
    /// Hosts, timeouts, retries, deadline and language (defaults: the production host with
    /// `api2.mch.weixin.qq.com` as backup, 10 s per exchange, 2 retries).
    #[uniffi(default)]
    pub options: ClientOptions,
}

impl WechatpayConfig {
    /// A direct-merchant configuration with every default.
    pub fn new(mchid: impl Into<String>, merchant_serial_no: impl Into<String>) -> WechatpayConfig {
        WechatpayConfig {
            mchid: mchid.into(),
            merchant_serial_no: merchant_serial_no.into(),
            sub_mchid: None,
            apiv3_key: None,
            wechatpay_public_key_id: None,
            wechatpay_public_key_pem: None,
            options: ClientOptions::default(),
        }
    }
}

impl fmt::Debug for WechatpayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatpayConfig")
            .field("mchid", &self.mchid)
            .field("merchant_serial_no", &self.merchant_serial_no)
            .field("sub_mchid", &self.sub_mchid)
            .field("apiv3_key", &self.apiv3_key.as_ref().map(|_| "<redacted>"))
            .field("wechatpay_public_key_id", &self.wechatpay_public_key_id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

crate::display_as_debug!(WechatpayConfig);

/// A verified and decrypted APIv3 notification.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WechatpayNotification {
    /// Notification id.
    pub id: String,
    /// `create_time`.
    pub create_time: String,
    /// `event_type`, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// `resource_type`, normally `encrypt-resource`.
    pub resource_type: String,
    /// `summary`.
    pub summary: String,
    /// `resource.original_type`.
    pub original_type: String,
    /// The decrypted resource (JSON text).
    pub plaintext: String,
}

/// Whether a signed answer's timestamp must be within the 5-minute window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// Refuse answers further than 5 minutes from local time (replays).
    Checked,
    /// Saved notifications, inspected later.
    Ignored,
}

/// A WeChat Pay platform certificate, downloaded, verified and decrypted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WechatpayPlatformCertificate {
    /// Serial number (upper-case hex, as `Wechatpay-Serial` names it).
    pub serial_no: String,
    /// `effective_time` as WeChat Pay sent it (RFC 3339).
    pub effective_time: String,
    /// `expire_time` as WeChat Pay sent it (RFC 3339).
    pub expire_time: String,
    /// The certificate (PEM). Public: it holds the platform's public key.
    pub certificate_pem: String,
}

/// The hosts and timeout WeChat Pay documents.
pub const WECHATPAY_DEFAULTS: PlatformDefaults = PlatformDefaults {
    base_url: WECHATPAY_BASE_URL,
    backup_base_url: Some(WECHATPAY_BACKUP_BASE_URL),
    timeout: Duration::from_secs(10),
};

/// A request laid out and encrypted, ready to be signed for a host.
#[derive(Debug, Clone)]
pub struct Prepared {
    d: &'static EndpointDescriptor,
    method: &'static str,
    url: String,
    body: String,
    serial: Option<String>,
}

/// A client for the WeChat Pay APIv3 支付即服务 endpoints.
#[derive(uniffi::Object)]
pub struct WechatpayClient {
    config: WechatpayConfig,
    signer: Arc<dyn WechatpayMerchantSigner>,
    engine: Engine,
    trust: Arc<TrustStore>,
    clock: Clock,
}

impl fmt::Debug for WechatpayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatpayClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl WechatpayClient {
    /// Checks the configuration (merchant id, APIv3 key, what to verify WeChat Pay with) and
    /// builds the client; exported as `WechatpayClient::new` (in `crate::ffi::wechatpay`).
    pub(crate) fn create(
        config: WechatpayConfig,
        signer: Arc<dyn WechatpayMerchantSigner>,
    ) -> Result<Arc<Self>, MendianError> {
        if config.mchid.is_empty() || !config.mchid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MendianError::invalid("mchid", "must be the digits of a 商户号"));
        }
        check_id("merchant_serial_no", &config.merchant_serial_no)?;
        if let Some(sub) = &config.sub_mchid {
            if sub.is_empty() || !sub.bytes().all(|b| b.is_ascii_digit()) {
                return Err(MendianError::invalid("sub_mchid", "must be the digits of a 子商户号"));
            }
        }
        if let Some(k) = &config.apiv3_key {
            if k.len() != 32 {
                return Err(MendianError::Credentials {
                    reason: format!("the APIv3 key must be 32 bytes, got {}", k.len()),
                });
            }
        }
        let public_key = match (&config.wechatpay_public_key_id, &config.wechatpay_public_key_pem) {
            (Some(id), Some(pem)) => {
                check_id("wechatpay_public_key_id", id)?;
                if !id.starts_with("PUB_KEY_ID_") {
                    return Err(MendianError::invalid("wechatpay_public_key_id", "must start with PUB_KEY_ID_"));
                }
                Some((id.clone(), RsaPublicKey::from_pem(pem)?))
            }
            (None, None) => None,
            _ => {
                return Err(MendianError::invalid(
                    "wechatpay_public_key_id",
                    "public-key mode needs both wechatpay_public_key_id and wechatpay_public_key_pem",
                ))
            }
        };
        if public_key.is_none() && config.apiv3_key.is_none() {
            return Err(MendianError::Credentials {
                reason: "nothing to verify WeChat Pay with: configure the WeChat Pay public key (public-key mode) or the APIv3 key (platform certificates)".into(),
            });
        }
        let engine = Engine::new(&config.options, WECHATPAY_DEFAULTS)?;
        Ok(Arc::new(WechatpayClient {
            config,
            signer,
            engine,
            trust: Arc::new(TrustStore::new(public_key)),
            clock: system_clock(),
        }))
    }

    /// Verifies and decrypts a notification; exported as
    /// [`WechatpayClient::verify_notification`] (in `crate::ffi::wechatpay`).
    pub(crate) async fn notification(
        &self,
        headers: HashMap<String, String>,
        body: String,
    ) -> Result<WechatpayNotification, MendianError> {
        self.open_notification(headers, body, Window::Checked).await
    }

    /// Verifies and decrypts a notification saved earlier, without the 5-minute replay
    /// window: for tools that inspect saved notifications (`mendian wechatpay
    /// verify-notification --saved`). A server receiving notifications must use
    /// `verify_notification`, which refuses replays.
    pub async fn verify_saved_notification(
        &self,
        headers: HashMap<String, String>,
        body: String,
    ) -> Result<WechatpayNotification, MendianError> {
        self.open_notification(headers, body, Window::Ignored).await
    }

    async fn open_notification(
        &self,
        headers: HashMap<String, String>,
        body: String,
        window: Window,
    ) -> Result<WechatpayNotification, MendianError> {
        let headers: Vec<(String, String)> = headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        self.verify(&headers, body.as_bytes(), window).await?;
        let key = self
            .config
            .apiv3_key
            .as_deref()
            .ok_or_else(|| MendianError::Credentials { reason: "notifications need the APIv3 key".into() })?;
        let v: Value = serde_json::from_str(&body).map_err(|e| decode_error("the notification", e))?;
        let r = &v["resource"];
        let text = |x: &Value| x.as_str().unwrap_or("").to_string();
        let ct = b64_decode(r["ciphertext"].as_str().unwrap_or(""))
            .ok_or_else(|| decode_error("the notification", "resource.ciphertext is not base64"))?;
        let pt =
            aes_gcm_decrypt(key.as_bytes(), text(&r["nonce"]).as_bytes(), text(&r["associated_data"]).as_bytes(), &ct)?;
        Ok(WechatpayNotification {
            id: text(&v["id"]),
            create_time: text(&v["create_time"]),
            event_type: text(&v["event_type"]),
            resource_type: text(&v["resource_type"]),
            summary: text(&v["summary"]),
            original_type: text(&r["original_type"]),
            plaintext: String::from_utf8(pt).map_err(|_| decode_error("the notification", "not UTF-8"))?,
        })
    }
}

impl WechatpayClient {
    /// Replaces the clock (Unix seconds) used for request timestamps and the response
    /// window; for tests.
    pub fn set_clock(self: &Arc<Self>, clock: Clock) -> Arc<Self> {
        Arc::new(WechatpayClient {
            config: self.config.clone(),
            signer: self.signer.clone(),
            engine: self.engine.clone(),
            trust: Arc::new(TrustStore::new(self.trust_public_key())),
            clock,
        })
    }

    /// This client with another timeout per HTTP exchange; everything else (signer, trusted
    /// keys and certificates, connection pool) is shared.
    pub(crate) fn timed(&self, timeout: std::time::Duration) -> Arc<Self> {
        Arc::new(WechatpayClient {
            config: self.config.clone(),
            signer: self.signer.clone(),
            engine: self.engine.with_timeout(timeout),
            trust: self.trust.clone(),
            clock: self.clock.clone(),
        })
    }

    fn trust_public_key(&self) -> Option<(String, RsaPublicKey)> {
        let id = self.trust.public_key_id()?.to_string();
        self.trust.verifier(&id).map(|k| (id, k))
    }

    /// Serials of the platform certificates currently trusted.
    pub fn platform_certificate_serials(&self) -> Vec<String> {
        self.trust.cert_serials()
    }

    /// Validates, encrypts and lays out a request: the URL (path and percent-encoded query),
    /// the JSON body (serialized once) and the `Wechatpay-Serial` to send.
    async fn prepare<R: Request>(&self, request: &R) -> Result<Prepared, MendianError> {
        request.validate()?;
        let d = R::descriptor();
        let mut value = to_value(d, request)?;
        if let (Some(sub), Some(obj)) = (&self.config.sub_mchid, value.as_object_mut()) {
            if d.field("sub_mchid").is_some() && obj.get("sub_mchid").is_none_or(Value::is_null) {
                obj.insert("sub_mchid".into(), Value::String(sub.clone()));
            }
        }
        d.check_mode(value.get("sub_mchid").is_some_and(|v| !v.is_null()))?;
        // Every request names the key it encrypted with, or can verify the answer with:
        // in certificate mode the first call therefore downloads the certificates.
        let (serial, key) = self.encryption_key().await?;
        for f in d.fields.iter().filter(|f| f.encrypted) {
            if let Some(Value::String(pt)) = value.get(f.name) {
                let ct = b64(&key
                    .encrypt_oaep_sha1(pt.as_bytes())
                    .map_err(|_| MendianError::invalid(f.name, "too long to encrypt"))?);
                value[f.name] = Value::String(ct);
            }
        }
        let layout = lay_out(d, &value);
        let url = layout.path_and_query();
        let body = if d.method == "GET" || d.method == "DELETE" {
            String::new()
        } else {
            Value::Object(layout.body).to_string()
        };
        Ok(Prepared { d, method: d.method, url, body, serial: Some(serial) })
    }

    /// Builds the signed HTTP request for `request` against the primary host, without
    /// sending it: for apps that bring their own HTTP stack (pair it with
    /// [`WechatpayClient::read_response`]) and for measuring the SDK's CPU cost.
    pub async fn build_signed_request<R: Request>(&self, request: &R) -> Result<(HttpRequest, String), MendianError> {
        let p = self.prepare(request).await?;
        self.sign_for_host(&p, self.engine.primary()).await
    }

    /// Verifies and decodes the answer to a request built by
    /// [`WechatpayClient::build_signed_request`] (`signed` is the string that was signed).
    pub async fn read_response<R: Request>(
        &self,
        resp: &HttpResponse,
        signed: &str,
    ) -> Result<R::Response, MendianError> {
        let d = R::descriptor();
        let v = self.read_value(d, resp, signed).await?;
        decode_payload(d, v)
    }

    /// Calls the endpoint of `R`.
    pub async fn call<R: Request>(&self, request: &R) -> Result<R::Response, MendianError> {
        let d = R::descriptor();
        let prepared = self.prepare(request).await?;
        self.engine.execute(self, d, &prepared).await
    }

    async fn encryption_key(&self) -> Result<(String, RsaPublicKey), MendianError> {
        if self.trust.public_key_id().is_none() && self.trust.certs_stale() {
            self.refresh_certificates(false).await?;
        }
        self.trust.encryption_key().ok_or_else(|| MendianError::Credentials {
            reason: "no WeChat Pay key to encrypt sensitive fields with".into(),
        })
    }

    /// Signs a prepared request for one host: a fresh timestamp and nonce each time.
    async fn sign_for_host(&self, p: &Prepared, host: &str) -> Result<(HttpRequest, String), MendianError> {
        let ts = (self.clock)();
        let nonce = random_nonce();
        let message = auth::request_message(p.method, &p.url, ts, &nonce, &p.body);
        let signature = self
            .signer
            .sign(auth::WechatpaySignRequest {
                endpoint: p.d.id.to_string(),
                method: p.method.to_string(),
                url: p.url.clone(),
                timestamp: ts,
                nonce: nonce.clone(),
                body: p.body.clone(),
                message: message.clone(),
            })
            .await?;
        let mut headers = vec![
            (
                "authorization".to_string(),
                auth::authorization(&self.config.mchid, &self.config.merchant_serial_no, &nonce, ts, &signature),
            ),
            ("accept".to_string(), "application/json".to_string()),
        ];
        if !p.body.is_empty() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(s) = &p.serial {
            headers.push(("wechatpay-serial".into(), s.clone()));
        }
        Ok((
            HttpRequest {
                method: p.method,
                url: format!("{host}{}", p.url),
                headers,
                body: p.body.as_bytes().to_vec(),
            },
            message,
        ))
    }

    /// Checks an answer: errors for non-2xx, then the signature, then decryption of the
    /// encrypted fields; the JSON (null for an empty body).
    async fn read_value(
        &self,
        d: &EndpointDescriptor,
        resp: &HttpResponse,
        signed: &str,
    ) -> Result<Value, MendianError> {
        if !(200..300).contains(&resp.status) {
            return Err(api_error_of(d, resp, signed));
        }
        self.verify(&resp.headers, &resp.body, Window::Checked).await?;
        if resp.body.is_empty() {
            return Ok(Value::Null);
        }
        let mut v: Value =
            serde_json::from_slice(&resp.body).map_err(|e| decode_error(format!("the {} response", d.id), e))?;
        for path in d.encrypted_response_paths {
            let parts: Vec<&str> = path.split('/').collect();
            let mut found = Vec::new();
            collect_strings(&mut v, &parts, &mut found);
            for slot in found {
                if let Value::String(ct) = slot {
                    *ct = self.signer.decrypt(ct.clone()).await?;
                }
            }
        }
        Ok(v)
    }

    /// Verifies a signed answer (response or notification) over its raw body.
    async fn verify(&self, headers: &[(String, String)], body: &[u8], window: Window) -> Result<(), MendianError> {
        let h =
            |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string());
        let sig = h("wechatpay-signature").ok_or_else(|| MendianError::Signature {
            reason: "the answer carries no Wechatpay-Signature: WeChat Pay signs every success, so it was forged or a proxy stripped the header".into(),
        })?;
        if sig.starts_with(auth::SIGNTEST_PREFIX) {
            return Err(MendianError::Signature {
                reason: "Wechatpay-Signature is a WECHATPAY/SIGNTEST/ probe, which never verifies".into(),
            });
        }
        let (Some(ts), Some(nonce), Some(serial)) =
            (h("wechatpay-timestamp"), h("wechatpay-nonce"), h("wechatpay-serial"))
        else {
            return Err(MendianError::Signature {
                reason: "Wechatpay-Timestamp, Wechatpay-Nonce or Wechatpay-Serial is missing".into(),
            });
        };
        let t: i64 = ts
            .parse()
            .map_err(|_| MendianError::Signature { reason: format!("Wechatpay-Timestamp {ts:?} is not a number") })?;
        let skew = (self.clock)().saturating_sub(t).unsigned_abs();
        if window == Window::Checked && skew > auth::CLOCK_WINDOW_SECONDS.unsigned_abs() {
            return Err(MendianError::Signature {
                reason: format!("Wechatpay-Timestamp is {skew} s away from local time (more than 5 minutes): replayed answer or a wrong clock"),
            });
        }
        let key = match self.trust.verifier(&serial) {
            Some(k) => k,
            None if self.config.apiv3_key.is_some() => {
                if let Err(wait) = self.trust.allow_unknown_serial_download() {
                    return Err(MendianError::Signature {
                        reason: format!("Wechatpay-Serial {serial} is unknown, and the certificates were downloaded for an unknown serial less than a minute ago (next download allowed in {wait} s)"),
                    });
                }
                self.refresh_certificates(true).await?;
                self.trust.verifier(&serial).ok_or_else(|| MendianError::Signature {
                    reason: format!("Wechatpay-Serial {serial} is neither the configured public key id nor a downloaded platform certificate"),
                })?
            }
            None => {
                return Err(MendianError::Signature {
                    reason: format!("Wechatpay-Serial {serial} is not the configured WeChat Pay public key id"),
                })
            }
        };
        let raw = b64_decode(&sig)
            .ok_or_else(|| MendianError::Signature { reason: "Wechatpay-Signature is not base64".into() })?;
        if !key.verify_sha256(&auth::response_message(&ts, &nonce, body), &raw) {
            return Err(MendianError::Signature {
                reason: format!("the signature does not verify with the key {serial}"),
            });
        }
        Ok(())
    }

    /// Downloads, decrypts and installs the platform certificates. With `force` false, a
    /// download finished by a concurrent caller is reused.
    pub async fn refresh_certificates(&self, force: bool) -> Result<(), MendianError> {
        let _guard = self.trust.refresh_lock.lock().await;
        if !force && !self.trust.certs_stale() {
            return Ok(());
        }
        self.fetch_certificates().await.map(|_| ())
    }

    /// Downloads the platform certificates now, verifies the list's signature, decrypts each
    /// with the APIv3 key, checks serials and validity, installs them for this client and
    /// returns them (exported as `download_platform_certificates`).
    pub async fn platform_certificates(&self) -> Result<Vec<WechatpayPlatformCertificate>, MendianError> {
        let _guard = self.trust.refresh_lock.lock().await;
        self.fetch_certificates().await
    }

    /// The download behind [`Self::refresh_certificates`] and [`Self::platform_certificates`];
    /// the caller holds the refresh lock.
    async fn fetch_certificates(&self) -> Result<Vec<WechatpayPlatformCertificate>, MendianError> {
        let key = self.config.apiv3_key.clone().ok_or_else(|| MendianError::Credentials {
            reason: "downloading platform certificates needs the APIv3 key; or configure the WeChat Pay public key (public-key mode)".into(),
        })?;
        let prepared = Prepared {
            d: &DOWNLOAD_CERTIFICATES,
            method: "GET",
            url: DOWNLOAD_CERTIFICATES.path.to_string(),
            body: String::new(),
            serial: self.trust.public_key_id().map(str::to_string),
        };
        let (resp, signed) = self.engine.send(self, &prepared).await.map_err(|(e, _)| e)?;
        if resp.status == 404 && String::from_utf8_lossy(&resp.body).contains("RESOURCE_NOT_EXISTS") {
            return Err(MendianError::Credentials {
                reason: "this merchant has no platform certificates (WeChat Pay answered 404 RESOURCE_NOT_EXISTS): configure public-key mode with wechatpay_public_key_id and wechatpay_public_key_pem".into(),
            });
        }
        if !(200..300).contains(&resp.status) {
            return Err(api_error_of(&DOWNLOAD_CERTIFICATES, &resp, &signed));
        }
        let parsed: DownloadCertificatesResponse =
            serde_json::from_slice(&resp.body).map_err(|e| decode_error("the platform certificate list", e))?;
        let mut certs = Vec::new();
        let mut exported = Vec::new();
        let mut expired = Vec::new();
        for c in parsed.data {
            let e = &c.encrypt_certificate;
            let ct = b64_decode(&e.ciphertext)
                .ok_or_else(|| decode_error("a platform certificate", "ciphertext is not base64"))?;
            let pem = aes_gcm_decrypt(key.as_bytes(), e.nonce.as_bytes(), e.associated_data.as_bytes(), &ct)?;
            let pem = String::from_utf8(pem).map_err(|_| decode_error("a platform certificate", "not UTF-8"))?;
            let (info, public) = crate::crypto::certificate_info_from_pem(&pem)?;
            let cert_serial = info.serial_hex.clone();
            let now = (self.clock)();
            if !info.valid_at(now) {
                expired.push(format!("{cert_serial} (valid {} to {})", info.not_before, info.not_after));
                continue;
            }
            if crate::crypto::der::normalize_serial(&c.serial_no) != cert_serial {
                return Err(decode_error(
                    "a platform certificate",
                    format!("serial_no {} does not match the certificate's serial {cert_serial}", c.serial_no),
                ));
            }
            certs.push(PlatformCert { serial: cert_serial.clone(), expire_time: c.expire_time.clone(), key: public });
            exported.push(WechatpayPlatformCertificate {
                serial_no: cert_serial,
                effective_time: c.effective_time.clone(),
                expire_time: c.expire_time.clone(),
                certificate_pem: pem,
            });
        }
        if certs.is_empty() && !expired.is_empty() {
            return Err(MendianError::Credentials {
                reason: format!(
                    "every platform certificate WeChat Pay sent is outside its validity at local time (Unix seconds): {}; check the clock, or use public-key mode",
                    expired.join(", ")
                ),
            });
        }
        // The list is verified like any answer; the first download can only be checked
        // against the certificates it carries (they arrived encrypted with the APIv3 key).
        let header = |n: &str| resp.header(n).unwrap_or("").to_string();
        let resp_serial = crate::crypto::der::normalize_serial(&header("wechatpay-serial"));
        let key = certs
            .iter()
            .find(|c| c.serial == resp_serial)
            .map(|c| c.key.clone())
            .or_else(|| self.trust.verifier(&header("wechatpay-serial")));
        let sig = b64_decode(&header("wechatpay-signature")).unwrap_or_default();
        let ts: i64 = header("wechatpay-timestamp").parse().unwrap_or(0);
        let ok = key.is_some_and(|k| {
            k.verify_sha256(
                &auth::response_message(&header("wechatpay-timestamp"), &header("wechatpay-nonce"), &resp.body),
                &sig,
            )
        });
        if !ok || (self.clock)().saturating_sub(ts).unsigned_abs() > auth::CLOCK_WINDOW_SECONDS.unsigned_abs() {
            return Err(MendianError::Signature {
                reason: "the platform certificate list is not validly signed".into(),
            });
        }
        self.trust.set_certs(certs);
        Ok(exported)
    }
}

/// Every string slot at `parts` (`*` walks list items).
fn collect_strings<'a>(v: &'a mut Value, parts: &[&str], out: &mut Vec<&'a mut Value>) {
    match parts.split_first() {
        None => {
            if v.is_string() {
                out.push(v);
            }
        }
        Some((&"*", rest)) => {
            if let Value::Array(items) = v {
                for item in items {
                    collect_strings(item, rest, out);
                }
            }
        }
        Some((name, rest)) => {
            if let Some(child) = v.get_mut(*name) {
                collect_strings(child, rest, out);
            }
        }
    }
}

/// The `Api` error of a non-2xx answer, with the spec's words for the code.
fn api_error_of(d: &EndpointDescriptor, resp: &HttpResponse, signed: &str) -> MendianError {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let code = text("code").or_else(|| text("return_code")).unwrap_or_else(|| format!("HTTP_{}", resp.status));
    let message = text("message")
        .or_else(|| text("return_msg"))
        .unwrap_or_else(|| String::from_utf8_lossy(&resp.body).chars().take(200).collect());
    let shown_message = (code == "SIGN_ERROR").then(|| {
        match v.pointer("/detail/sign_information/truncated_sign_message").and_then(Value::as_str) {
            Some(t) => format!("{message} — WeChat Pay saw {t:?}; mendian signed {signed:?}"),
            None => format!("{message} — mendian signed {signed:?}"),
        }
    });
    let transient = resp.status == 429 || (resp.status >= 500 && code == "SYSTEM_ERROR");
    api_error(
        d,
        ApiAnswer {
            http_status: Some(resp.status),
            code,
            sub_code: None,
            message,
            shown_message,
            request_id: resp.header("request-id").map(str::to_string),
            detail: v.get("detail").map(|d| d.to_string()),
            transient,
        },
    )
}

/// The WeChat Pay protocol for the call engine: each attempt is signed afresh for its host
/// (new timestamp and nonce); answers are verified before they are read.
#[async_trait::async_trait]
impl Protocol for WechatpayClient {
    type Call = Prepared;
    type Ticket = String;

    async fn build(&self, call: &Prepared, base: &str) -> Result<(HttpRequest, String), MendianError> {
        self.sign_for_host(call, base).await
    }

    async fn read<T: DeserializeOwned + Send>(
        &self,
        call: &Prepared,
        response: HttpResponse,
        signed: &String,
    ) -> Result<T, MendianError> {
        decode_payload(call.d, self.read_value(call.d, &response, signed).await?)
    }

    fn classify(&self, error: &MendianError) -> Failure {
        if let Some(f) = transport_failure(error) {
            return f;
        }
        match error {
            MendianError::Api { http_status: Some(429 | 500..=599), retryable: true, .. } => Failure::Transient,
            _ => Failure::Final,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_values_are_percent_encoded_in_the_query() {
        use crate::runtime::encode::percent_encode;
        assert_eq!(percent_encode("str2WoWy8u+nn3t4Ql/x=="), "str2WoWy8u%2Bnn3t4Ql%2Fx%3D%3D");
        assert_eq!(percent_encode("张"), "%E5%BC%A0");
    }

    #[test]
    fn config_debug_redacts_the_apiv3_key() {
        let mut c = WechatpayConfig::new("1234567891", "5F1C");
        c.apiv3_key = Some("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".into());
        assert!(!format!("{c:?}").contains("a7cde1"));
    }
}
