//! Whom to trust: the WeChat Pay public key (`PUB_KEY_ID_…`) and the platform certificates,
//! both at once. A signature is verified with the key its `Wechatpay-Serial` names; sensitive
//! fields are encrypted with the public key when one is configured, else with the platform
//! certificate that expires last.
//!
//! Platform certificates are downloaded by the client (`GET /v3/certificates`), decrypted with
//! the APIv3 key and kept here; they are refreshed when older than [`REFRESH_INTERVAL`] (well
//! inside WeChat Pay's 12-hour guidance) and when a response or notification names an unknown
//! serial (at most once per [`UNKNOWN_SERIAL_INTERVAL`]).

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::crypto::der::normalize_serial;
use crate::crypto::RsaPublicKey;

/// How old the downloaded certificates may get before the next call refreshes them.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// The least time between two certificate downloads caused by signatures under serials the
/// client does not know (a new platform certificate is picked up within this; WeChat Pay
/// repeats an unacknowledged notification later).
pub const UNKNOWN_SERIAL_INTERVAL: Duration = Duration::from_secs(60);

/// One platform certificate.
#[derive(Debug, Clone)]
pub struct PlatformCert {
    /// Serial number (upper-case hex).
    pub serial: String,
    /// `expire_time` as sent (RFC 3339); compared as text, which orders RFC 3339 times with
    /// the same offset correctly.
    pub expire_time: String,
    /// Its public key.
    pub key: RsaPublicKey,
}

/// The keys a client trusts.
#[derive(Debug)]
pub struct TrustStore {
    public_key: Option<(String, RsaPublicKey)>,
    certs: RwLock<Vec<PlatformCert>>,
    refreshed_at: Mutex<Option<Instant>>,
    /// When a signature under an unknown serial last caused a download.
    unknown_serial_download: Mutex<Option<Instant>>,
    /// Held while downloading, so concurrent calls cause one download.
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
}

impl TrustStore {
    /// A store with an optional WeChat Pay public key.
    pub fn new(public_key: Option<(String, RsaPublicKey)>) -> TrustStore {
        TrustStore { public_key, certs: RwLock::new(Vec::new()), refreshed_at: Mutex::new(None), unknown_serial_download: Mutex::new(None), refresh_lock: tokio::sync::Mutex::new(()) }
    }

    /// The configured public key id, if any.
    pub fn public_key_id(&self) -> Option<&str> {
        self.public_key.as_ref().map(|(id, _)| id.as_str())
    }

    /// The key that verifies signatures made under `serial`.
    pub fn verifier(&self, serial: &str) -> Option<RsaPublicKey> {
        if let Some((id, key)) = &self.public_key {
            if id == serial.trim() {
                return Some(key.clone());
            }
        }
        let wanted = normalize_serial(serial);
        self.certs.read().unwrap_or_else(|p| p.into_inner()).iter().find(|c| c.serial == wanted).map(|c| c.key.clone())
    }

    /// The key (and its id for `Wechatpay-Serial`) to encrypt sensitive fields with.
    pub fn encryption_key(&self) -> Option<(String, RsaPublicKey)> {
        if let Some((id, key)) = &self.public_key {
            return Some((id.clone(), key.clone()));
        }
        self.newest_cert().map(|c| (c.serial, c.key))
    }

    /// The platform certificate that expires last.
    pub fn newest_cert(&self) -> Option<PlatformCert> {
        self.certs.read().unwrap_or_else(|p| p.into_inner()).iter().max_by(|a, b| a.expire_time.cmp(&b.expire_time)).cloned()
    }

    /// Whether the certificates should be (re)downloaded before use.
    pub fn certs_stale(&self) -> bool {
        match *self.refreshed_at.lock().unwrap_or_else(|p| p.into_inner()) {
            None => true,
            Some(t) => t.elapsed() >= REFRESH_INTERVAL,
        }
    }

    /// Whether a signature under a serial nobody knows may cause a certificate download now:
    /// at most one per [`UNKNOWN_SERIAL_INTERVAL`], so that a flood of unauthenticated
    /// notifications with made-up serials cannot keep the client downloading. `Err` holds
    /// the seconds until the next one is allowed.
    pub fn allow_unknown_serial_download(&self) -> Result<(), u64> {
        let mut last = self.unknown_serial_download.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = *last {
            let elapsed = t.elapsed();
            if elapsed < UNKNOWN_SERIAL_INTERVAL {
                return Err((UNKNOWN_SERIAL_INTERVAL - elapsed).as_secs().max(1));
            }
        }
        *last = Some(Instant::now());
        Ok(())
    }

    /// Replaces the platform certificates.
    pub fn set_certs(&self, certs: Vec<PlatformCert>) {
        *self.certs.write().unwrap_or_else(|p| p.into_inner()) = certs;
        *self.refreshed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Serials of the platform certificates held.
    pub fn cert_serials(&self) -> Vec<String> {
        self.certs.read().unwrap_or_else(|p| p.into_inner()).iter().map(|c| c.serial.clone()).collect()
    }
}
