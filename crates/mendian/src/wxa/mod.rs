//! WeChat 门店小程序 (store mini-program) APIs on `api.weixin.qq.com`.
//!
//! - [`token`]: access-token providers (stable_token, classic token, fixed, your own), the
//!   token store trait and the single-flight cache.
//! - [`client`]: [`WxaClient`], one generic call path; the typed methods (`add_store`,
//!   `get_store_list`, …) are generated from the spec.

pub mod client;
pub mod token;

pub use client::{WxaClient, WxaConfig, WXA_BACKUP_BASE_URL, WXA_BASE_URL};
pub use token::{
    wxa_classic_token_provider, wxa_fixed_token_provider, wxa_memory_token_store, wxa_stable_token_provider, WxaAccessToken,
    WxaStoredToken, WxaTokenProvider, WxaTokenStore,
};

/// The generated records of the 门店小程序 family (`AddStoreRequest`, `StoreBaseInfo`, …).
pub use crate::generated::wxa::*;
