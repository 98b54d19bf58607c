//! WeChat Pay APIv3 for the 支付即服务 (smartguide) staff API.
//!
//! - [`auth`]: signing strings, the `Authorization` header, the merchant signer trait and
//!   the built-in PEM signer.
//! - [`trust`]: the WeChat Pay public key and platform certificates, side by side.
//! - [`client`]: [`WechatpayClient`], one generic call path; the typed methods
//!   (`register_guide`, `assign_guide`, `query_guides`, `update_guide`,
//!   `download_certificates`) are generated from the spec.

pub mod auth;
pub mod client;
pub mod trust;

pub use auth::{wechatpay_pem_signer, PemMerchantSigner, WechatpayMerchantSigner, WechatpaySignRequest};
pub use client::{
    WechatpayClient, WechatpayConfig, WechatpayNotification, WechatpayPlatformCertificate, WECHATPAY_BACKUP_BASE_URL,
    WECHATPAY_BASE_URL,
};

/// The generated records of the 支付即服务 family (`UpdateGuideRequest`, `GuideInfo`, …).
pub use crate::generated::wechatpay::*;
