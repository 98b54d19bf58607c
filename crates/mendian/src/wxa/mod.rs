//! WeChat 门店小程序 (store mini-program) APIs on `api.weixin.qq.com`.
//!
//! - [`token`]: access-token providers (stable_token, classic token, fixed, your own) and the
//!   token store trait with its in-memory store.
//! - [`token_cache`]: the single-flight cache (per process, and per fleet through the store's
//!   lock).
//! - `redis_store` (cargo feature `redis`): the token store a fleet of servers shares.
//! - [`client`]: [`WxaClient`], one generic call path (JSON, GET query or multipart upload);
//!   the typed methods (`add_store`, `get_store_list`, `upload_media`, …) are generated from
//!   the spec.
//! - [`stores`]: paging through every store, and get_district as a province → city →
//!   district tree.

pub mod client;
pub mod events;
pub mod stores;
pub mod token;
pub mod token_cache;
#[cfg(feature = "redis")]
pub mod redis_store;

pub use client::{WxaClient, WxaConfig, WXA_BACKUP_BASE_URL, WXA_BASE_URL};
pub use events::{
    wxa_parse_push, wxa_push_encrypt_with_random, wxa_push_signature, WxaEvent, WxaPush, WxaPushConfig, WxaPushReceiver,
};
#[cfg(feature = "redis")]
pub use crate::ffi::wxa::wxa_redis_token_store;
#[cfg(feature = "redis")]
pub use redis_store::WxaRedisStoreOptions;
pub use stores::{wxa_district_tree, WxaDistrictCity, WxaDistrictProvince};
pub use token::{
    wxa_classic_token_provider, wxa_fixed_token_provider, wxa_memory_token_store, wxa_stable_token_provider,
    WxaAccessToken, WxaStoredToken, WxaTokenProvider, WxaTokenStore,
};

/// The generated records of the 门店小程序 family (`AddStoreRequest`, `StoreBaseInfo`, …).
pub use crate::generated::wxa::*;
