//! Taobao Open Platform: signed calls to `tmall.servicecenter.worker.*`.
//!
//! - [`sign`]: canonical string, md5 / hmac / hmac-sha256, the [`TopSigner`] trait and the
//!   built-in app-secret signer.
//! - [`envelope`]: wrapped, simplified and error envelopes, and the worker business layer.
//! - [`client`]: [`TopClient`], one generic call path; the typed methods (`worker_update`, …)
//!   are generated from the spec into `generated/top.rs`.

pub mod client;
pub mod envelope;
pub mod sign;

pub use client::{TopClient, TopConfig, TOP_ECO_GATEWAY, TOP_GATEWAY, TOP_OVERSEAS_GATEWAY};
pub use sign::{top_app_secret_signer, TopAppSecretSigner, TopSignMethod, TopSignRequest, TopSigner};

/// The generated records of the TOP worker family (`WorkerDto`, `WorkerUpdateRequest`, …).
pub use crate::generated::top::*;
