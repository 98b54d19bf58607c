//! `TopClient`: one generic signed call for every `tmall.servicecenter.worker.*` endpoint.
//!
//! A call validates the request record, turns it into TOP parameters (complex parameters are
//! compact JSON strings, unsent values dropped), adds the system parameters with a GMT+8
//! timestamp, signs through the configured [`TopSigner`] and POSTs a form; the call engine
//! (`crate::runtime`) sends it and repeats it where that is safe. This module classifies
//! TOP's failures for the engine: transport failures and `isp.*` errors are transient
//! (repeated for endpoints the spec marks retryable), the per-second/per-minute bans of code
//! 7 are refusals that end after the ban's own length (never the daily quota). The typed
//! per-endpoint methods are generated from the spec into the FFI layer.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::envelope;
use super::sign::{canonical_string, is_sent, TopSignMethod, TopSignRequest, TopSigner};
use crate::error::MendianError;
use crate::runtime::encode::{form_encode_into, to_value};
use crate::runtime::engine::transport_failure;
use crate::runtime::options::check_id;
use crate::runtime::errors::decode_payload;
use crate::runtime::transport::{HttpRequest, HttpResponse};
use crate::runtime::{system_clock, ClientOptions, Clock, Engine, Failure, PlatformDefaults, Protocol};
use crate::schema::{EndpointDescriptor, Location, Request};

/// The production gateway (`base_url` of `spec/top.toml`).
pub const TOP_GATEWAY: &str = crate::generated::top::BASE_URL;
/// The overseas gateway, for apps outside mainland China (set it as `options.base_url`).
pub const TOP_OVERSEAS_GATEWAY: &str = crate::generated::top::OVERSEAS_BASE_URL;
/// The older document's https production address, the same site under another name (set it
/// as `options.base_url` where `gw.api.taobao.com` is not reachable).
pub const TOP_ECO_GATEWAY: &str = crate::generated::top::ECO_BASE_URL;

/// The gateway and timeout TOP documents (no backup gateway: the other addresses are another
/// region or another name, not failover targets).
pub const TOP_DEFAULTS: PlatformDefaults = PlatformDefaults {
    base_url: TOP_GATEWAY,
    backup_base_url: crate::generated::top::BACKUP_BASE_URL,
    timeout: Duration::from_secs(15),
};

/// How a [`TopClient`] talks to TOP.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct TopConfig {
    /// The app key (`app_key`).
    pub app_key: String,
    /// The user's authorisation session, used when a call gives none.
    #[uniffi(default)]
    pub session: Option<String>,
    /// Digest for `sign` (default `hmac-sha256`).
    #[uniffi(default)]
    pub sign_method: Option<TopSignMethod>,
    /// Ask for the unwrapped `simplify=true` JSON.
    #[uniffi(default)]
    pub simplify: bool,
    /// `partner_id`, if you have one.
    #[uniffi(default)]
    pub partner_id: Option<String>,
    /// `target_app_key`, for APIs provided by a third-party ISV.
    #[uniffi(default)]
    pub target_app_key: Option<String>,
    /// The longest rate-limit ban (code 7) worth waiting out, in seconds; longer bans fail at once.
    #[uniffi(default = 60)]
    pub max_ban_wait_seconds: u64,
    /// Gateway (`options.base_url`: production `https://gw.api.taobao.com/router/rest` by
    /// default, the overseas `https://api.taobao.com/router/rest`, or an emulator's),
    /// timeouts (15 s by default), retries, deadline and language.
    #[uniffi(default)]
    pub options: ClientOptions,
}

impl TopConfig {
    /// A configuration for `app_key` with every default.
    pub fn new(app_key: impl Into<String>) -> TopConfig {
        TopConfig {
            app_key: app_key.into(),
            session: None,
            sign_method: None,
            simplify: false,
            partner_id: None,
            target_app_key: None,
            max_ban_wait_seconds: 60,
            options: ClientOptions::default(),
        }
    }
}

impl fmt::Debug for TopConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopConfig")
            .field("app_key", &self.app_key)
            .field("session", &self.session.as_ref().map(|_| "<redacted>"))
            .field("sign_method", &self.sign_method)
            .field("simplify", &self.simplify)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

crate::display_as_debug!(TopConfig);

/// A client for the TOP worker APIs.
#[derive(uniffi::Object)]
pub struct TopClient {
    config: TopConfig,
    signer: Arc<dyn TopSigner>,
    engine: Engine,
    clock: Clock,
}

impl fmt::Debug for TopClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl TopClient {
    /// Checks the configuration and builds the client; exported as `TopClient::new` (in
    /// `crate::ffi::top`).
    pub(crate) fn create(config: TopConfig, signer: Arc<dyn TopSigner>) -> Result<Arc<Self>, MendianError> {
        check_id("app_key", &config.app_key)?;
        for (field, value) in
            [("session", &config.session), ("partner_id", &config.partner_id), ("target_app_key", &config.target_app_key)]
        {
            if let Some(v) = value {
                check_id(field, v)?;
            }
        }
        let engine = Engine::new(&config.options, TOP_DEFAULTS)?;
        Ok(Arc::new(TopClient { config, signer, engine, clock: system_clock() }))
    }
}

/// `yyyy-MM-dd HH:mm:ss` in GMT+8 for a Unix time, whatever the host's time zone.
pub fn gmt8_timestamp(unix_seconds: u64) -> String {
    let t = unix_seconds + 8 * 3600;
    let (days, secs) = (t / 86_400, t % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for all dates after 1970.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The TOP parameter value of one request member: strings as they are, numbers and
/// booleans as text, lists of scalars comma-joined, anything else compact JSON.
fn param_value(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            Some(items.iter().filter_map(param_value).collect::<Vec<_>>().join(","))
        }
        other => Some(other.to_string()),
    }
}

/// A request laid out once per call: its business parameters and session.
pub struct TopCall {
    d: &'static EndpointDescriptor,
    business: BTreeMap<String, String>,
    session: Option<String>,
}

impl TopClient {
    /// Replaces the clock (Unix seconds) used for request timestamps; for tests.
    pub fn set_clock(self: &Arc<Self>, clock: Clock) -> Arc<Self> {
        Arc::new(TopClient {
            config: self.config.clone(),
            signer: self.signer.clone(),
            engine: self.engine.clone(),
            clock,
        })
    }

    /// This client with another timeout per HTTP exchange; everything else is shared.
    pub(crate) fn timed(&self, timeout: std::time::Duration) -> Arc<Self> {
        Arc::new(TopClient {
            config: self.config.clone(),
            signer: self.signer.clone(),
            engine: self.engine.with_timeout(timeout),
            clock: self.clock.clone(),
        })
    }

    /// The business parameters of a request, by the descriptor's form fields.
    fn business_params<R: Request>(request: &R) -> Result<BTreeMap<String, String>, MendianError> {
        let d = R::descriptor();
        let value = to_value(d, request)?;
        let mut params = BTreeMap::new();
        for f in d.fields.iter().filter(|f| f.location == Location::Form) {
            if let Some(v) = value.get(f.name).and_then(param_value) {
                if is_sent(&v) {
                    params.insert(f.name.to_string(), v);
                }
            }
        }
        Ok(params)
    }

    async fn signed_params(
        &self,
        d: &EndpointDescriptor,
        business: &BTreeMap<String, String>,
        session: Option<&str>,
    ) -> Result<BTreeMap<String, String>, MendianError> {
        let method = self.config.sign_method.unwrap_or(TopSignMethod::HmacSha256);
        let mut p = business.clone();
        let now = u64::try_from((self.clock)()).unwrap_or(0);
        let system = [
            ("method", Some(d.api_name.unwrap_or(d.id).to_string())),
            ("app_key", Some(self.config.app_key.clone())),
            ("timestamp", Some(gmt8_timestamp(now))),
            ("v", Some("2.0".to_string())),
            ("format", Some("json".to_string())),
            ("sign_method", Some(method.wire_value().to_string())),
            ("session", session.map(str::to_string).or_else(|| self.config.session.clone())),
            ("simplify", self.config.simplify.then(|| "true".to_string())),
            ("partner_id", self.config.partner_id.clone()),
            ("target_app_key", self.config.target_app_key.clone()),
        ];
        for (k, v) in system {
            match v {
                Some(v) if is_sent(&v) => {
                    p.insert(k.to_string(), v);
                }
                _ => {}
            }
        }
        let request = TopSignRequest {
            sign_method: method,
            api_name: d.api_name.unwrap_or(d.id).to_string(),
            params: {
                let mut sent = HashMap::with_capacity(p.len());
                sent.extend(p.iter().filter(|(k, v)| *k != "sign" && is_sent(v)).map(|(k, v)| (k.clone(), v.clone())));
                sent
            },
            canonical: canonical_string(&p),
        };
        let sign = self.signer.sign(request).await?;
        if sign.trim().is_empty() {
            return Err(MendianError::Credentials { reason: "the TOP signer returned an empty signature".into() });
        }
        p.insert("sign".into(), sign);
        Ok(p)
    }

    /// How long to wait before repeating a call refused by a code-7 ban, if it may be
    /// repeated: a ban is a definite refusal (nothing was done), so even non-idempotent
    /// calls may be repeated once it has passed; the daily quota never is.
    fn ban_wait(&self, code: &str, sub_code: Option<&str>, message: &str) -> Option<Duration> {
        let sub = sub_code.unwrap_or("");
        if code != "7"
            || !(sub.ends_with("limited-by-api-access-count") || sub.ends_with("limited-by-app-api-access-count"))
        {
            return None;
        }
        let secs = envelope::ban_seconds(message)?;
        (secs <= self.config.max_ban_wait_seconds).then(|| Duration::from_secs(secs).saturating_add(Duration::from_millis(250)))
    }

    /// Calls the endpoint of `R` with `session` (or the configured one).
    pub async fn call<R: Request>(&self, request: &R, session: Option<&str>) -> Result<R::Response, MendianError> {
        request.validate()?;
        let d = R::descriptor();
        let call = TopCall { d, business: Self::business_params(request)?, session: session.map(str::to_string) };
        self.engine.execute(self, d, &call).await
    }
}

/// The TOP protocol for the call engine: every attempt is signed afresh (new timestamp).
#[async_trait::async_trait]
impl Protocol for TopClient {
    type Call = TopCall;
    type Ticket = ();

    async fn build(&self, call: &TopCall, gateway: &str) -> Result<(HttpRequest, ()), MendianError> {
        let params = self.signed_params(call.d, &call.business, call.session.as_deref()).await?;
        let mut body = String::with_capacity(params.iter().map(|(k, v)| k.len() + v.len() * 3 + 2).sum());
        for (k, v) in &params {
            if !body.is_empty() {
                body.push('&');
            }
            form_encode_into(k, &mut body);
            body.push('=');
            form_encode_into(v, &mut body);
        }
        let req = HttpRequest {
            method: "POST",
            url: gateway.to_string(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded;charset=UTF-8".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: body.into_bytes(),
        };
        Ok((req, ()))
    }

    async fn read<T: DeserializeOwned + Send>(
        &self,
        call: &TopCall,
        resp: HttpResponse,
        _: &(),
    ) -> Result<T, MendianError> {
        decode_payload(call.d, envelope::decode(call.d, resp.status, &resp.body)?)
    }

    fn classify(&self, error: &MendianError) -> Failure {
        if let Some(f) = transport_failure(error) {
            return f;
        }
        match error {
            MendianError::Api { code, sub_code, server_message, .. } => {
                match self.ban_wait(code, sub_code.as_deref(), server_message) {
                    Some(wait) => Failure::Refused { wait },
                    None if sub_code.as_deref().is_some_and(|s| s.starts_with("isp.")) => Failure::Transient,
                    None => Failure::Final,
                }
            }
            _ => Failure::Final,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_gmt8_whatever_the_host_zone() {
        // 2016-01-01 04:00:00 UTC is noon in Beijing.
        assert_eq!(gmt8_timestamp(1_451_620_800), "2016-01-01 12:00:00");
        // Crossing midnight and a leap day.
        assert_eq!(gmt8_timestamp(1_709_222_400 - 3600), "2024-02-29 23:00:00");
        assert_eq!(gmt8_timestamp(0), "1970-01-01 08:00:00");
    }

    #[test]
    fn param_values() {
        assert_eq!(param_value(&serde_json::json!(1234567890)).as_deref(), Some("1234567890"));
        assert_eq!(param_value(&serde_json::json!(true)).as_deref(), Some("true"));
        assert_eq!(param_value(&serde_json::json!(["123", 456])).as_deref(), Some("123,456"));
        assert_eq!(param_value(&serde_json::json!({"a": 1})).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(param_value(&Value::Null), None);
    }

    #[test]
    fn config_debug_redacts_the_session() {
        let mut c = TopConfig::new("12345678");
        c.session = Some("6100a1b2c3-secret-session".into());
        assert!(!format!("{c:?}").contains("secret-session"));
    }
}
