//! Receiving WeChat message pushes (消息推送) to your server URL: the four 门店小程序 audit
//! events and any other message, in plain mode and in safe mode (安全模式, `encrypt_type=aes`).
//!
//! WeChat delivers the audit results of `apply_merchant`, `create_map_poi`, `add_store` and
//! `update_store` only as pushes, so a merchant backend has to verify them itself. Doing that
//! right is where hand-written receivers usually go wrong, and this module exists so every
//! language gets one careful implementation:
//!
//! - the plain `signature` covers only token, timestamp and nonce; in safe mode the
//!   `msg_signature` over (token, timestamp, nonce, `Encrypt`) is the one that protects the
//!   message, and it is required and checked (both are compared in constant time);
//! - EncodingAESKeys are *non-canonical* base64 (43 characters, 2 trailing bits that a strict
//!   decoder rejects), so they are decoded leniently and then checked to be 32 bytes;
//! - AES-256-CBC with IV = the first 16 key bytes and PKCS#7 padding to a multiple of **32**,
//!   validated strictly; the length prefix is bounds-checked and the trailing appid must be
//!   yours;
//! - during a key rotation the previous EncodingAESKey is tried when the current one fails,
//!   and the reply is encrypted with the key that worked;
//! - with an EncodingAESKey configured, plain-mode pushes (whose signature does not cover the
//!   body) are refused unless explicitly accepted; a push is refused when its timestamp is
//!   outside a window around local time or its (timestamp, nonce) was accepted before; a
//!   plain-mode URL verification echoes only a plausible `echostr`;
//! - the XML parser is a small strict one that rejects DOCTYPE (entity expansion, XXE) and
//!   processing instructions, and knows CDATA, the five standard entities and character
//!   references — nothing else.
//!
//! Errors name what was wrong (which parameter, which signature, which key, which field) but
//! never contain the token, a key or the text of a message that failed; Debug output of the
//! configuration and the receiver redacts the secrets.
//!
//! The files, one concern each:
//!
//! - `receiver`: [`WxaPushReceiver`] and [`WxaPushConfig`] (URL verification, `receive`,
//!   `encrypt_reply`, key rotation), [`WxaPush`] and the parsing behind [`wxa_parse_push`];
//! - `crypto`: the message crypto — EncodingAESKey decoding, the AES-256-CBC message format
//!   with 32-byte PKCS#7 and the appid check, the SHA-1 signatures (behind
//!   [`wxa_push_signature`] and [`wxa_push_encrypt_with_random`]);
//! - `freshness`: the timestamp window and the replay guard;
//! - `xml`: the strict XML reader;
//! - `de`: the serde deserializer over the element texts, decoding the generated event records;
//! - `event`: [`WxaEvent`] and the mapping from parsed fields to it (`event_from_fields`).
//!
//! The exported functions, and the receiver's exported constructor and methods, are thin
//! calls into these files from `crate::ffi::wxa`.

// `MendianError` is the one error type that crosses the FFI; it is large by design. (Lint
// levels set here apply to every file of this module.)
#![allow(clippy::result_large_err)]

mod crypto;
mod de;
mod event;
mod freshness;
mod receiver;
mod xml;

pub(crate) use crypto::{encrypt_with_random, push_signature};
pub use event::WxaEvent;
pub(crate) use receiver::parse_push;
pub use receiver::{WxaPush, WxaPushConfig, WxaPushReceiver};

/// Exported from `crate::ffi::wxa` (with the receiver's constructor and methods); re-exported
/// here for Rust callers.
pub use crate::ffi::wxa::{wxa_parse_push, wxa_push_encrypt_with_random, wxa_push_signature};
