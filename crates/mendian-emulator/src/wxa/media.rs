//! Media upload and media ids. `cgi-bin/media/upload?type=…` parses the multipart body: a
//! part named `media` with a file name and content (44001 otherwise); `type`
//! image|voice|video|thumb (40004); the bytes must be of the type (magic bytes: image
//! JPEG/PNG/GIF, thumb JPEG, voice AMR/MP3, video MP4; 40005) and within its size (image and
//! voice 2 MB, video 10 MB, thumb 64 KB; 40006). Media ids (`headimg_mediaid`,
//! `qualification_list`, `org_code`, `other_files`; `|`-separated, at most 5) must be ids this
//! emulator issued within 3 days (85056 otherwise); a head image must be a JPEG or PNG image.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use super::envelope::{err, ok, unix_now, Answer};
use super::multipart::media_part;
use super::{WxaCall, WxaState};

const MEDIA_LIFETIME: Duration = Duration::from_secs(3 * 24 * 3600);
const MB: usize = 1024 * 1024;

/// An uploaded medium, as remembered.
#[derive(Debug, Clone)]
pub(super) struct Media {
    kind: String,
    format: &'static str,
    created: Instant,
}

/// What an upload carries, checked outside the lock.
pub(super) struct Upload {
    kind: String,
    format: &'static str,
}

fn random_media_id() -> String {
    let mut b = [0u8; 48];
    aws_lc_rs::rand::fill(&mut b).expect("RNG");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The format the magic bytes announce.
pub(super) fn sniff(b: &[u8]) -> &'static str {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpeg"
    } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        "png"
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        "gif"
    } else if b.starts_with(b"#!AMR") {
        "amr"
    } else if b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        "mp3"
    } else if b.get(4..8) == Some(b"ftyp") {
        "mp4"
    } else {
        "unknown"
    }
}

/// Parses and checks an upload (pure, so it runs outside the state lock).
pub(super) fn check_upload(call: &WxaCall) -> Result<Upload, Value> {
    let kind = call.query.get("type").map(String::as_str).unwrap_or("");
    let (max, formats): (usize, &[&str]) = match kind {
        "image" => (2 * MB, &["jpeg", "png", "gif"]),
        "voice" => (2 * MB, &["amr", "mp3"]),
        "video" => (10 * MB, &["mp4"]),
        "thumb" => (64 * 1024, &["jpeg"]),
        _ => return Err(err(40004, "invalid media type")),
    };
    let Some((Some(filename), data)) = media_part(call.content_type, call.raw_body) else {
        return Err(err(44001, "empty media data: no multipart part named media with a filename"));
    };
    if filename.is_empty() || data.is_empty() {
        return Err(err(44001, "empty media data"));
    }
    let format = sniff(data);
    if !formats.contains(&format) {
        return Err(err(40005, "invalid file type"));
    }
    if data.len() > max {
        return Err(err(40006, "invalid meida size"));
    }
    Ok(Upload { kind: kind.to_string(), format })
}

impl WxaState {
    /// `upload_media`: remembers a checked upload under a new media id.
    pub(super) fn upload_media(&mut self, upload: Result<Upload, Value>) -> Answer {
        let u = upload?;
        let id = random_media_id();
        let created_at = unix_now();
        self.media.insert(id.clone(), Media { kind: u.kind.clone(), format: u.format, created: Instant::now() });
        Ok(ok(json!({ "type": u.kind, "media_id": id, "created_at": created_at })))
    }

    /// A media id this emulator issued and that has not expired.
    fn media(&self, id: &str) -> Option<&Media> {
        self.media.get(id).filter(|m| m.created.elapsed() < MEDIA_LIFETIME)
    }

    /// A `|`-separated list of at most 5 issued media ids (a JSON array is accepted too).
    pub(super) fn check_media_list(&self, body: &BTreeMap<String, Value>, k: &str) -> Result<(), Value> {
        let ids: Vec<String> = match body.get(k) {
            None | Some(Value::Null) => vec![],
            Some(Value::String(t)) => {
                t.split('|').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
            }
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(|| err(47001, &format!("data format error: `{k}`"))))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(err(47001, &format!("data format error: `{k}` must be a string"))),
        };
        if ids.len() > 5 {
            return Err(err(40097, &format!("invalid args: `{k}` takes at most 5 media ids")));
        }
        match ids.iter().find(|id| self.media(id).is_none()) {
            Some(_) => Err(err(85056, "临时mediaid无效")),
            None => Ok(()),
        }
    }

    pub(super) fn check_head_image(&self, id: &str) -> Result<(), Value> {
        match self.media(id) {
            Some(m) if m.kind == "image" && matches!(m.format, "jpeg" | "png") => Ok(()),
            _ => Err(err(85056, "临时mediaid无效")),
        }
    }
}
