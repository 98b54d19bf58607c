//! `mendian wechatpay download-certificates` and `mendian wechatpay verify-notification`: the
//! WeChat Pay client's certificate download and notification verification, from files.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::args::{read_input, Args, Spec};
use super::{client_options, progress, Command, Failure, Report};
use crate::error::MendianError;
use crate::runtime::blocking;
use crate::wechatpay::{
    PemMerchantSigner, WechatpayClient, WechatpayConfig, WechatpayMerchantSigner, WechatpaySignRequest,
};

const SECRETS: &[(&str, &str)] =
    &[("private-key", "MENDIAN_WECHATPAY_PRIVATE_KEY"), ("apiv3-key", "MENDIAN_WECHATPAY_APIV3_KEY")];

/// The options every command here shares, for the help texts.
macro_rules! merchant_help {
    () => {
        "Merchant:\n\
  --mchid ID              商户号 (or MENDIAN_WECHATPAY_MCHID)\n\
  --serial SERIAL         the merchant API certificate's serial (or MENDIAN_WECHATPAY_MERCHANT_SERIAL_NO)\n\
  --private-key-file F    the merchant private key, PEM (or its text in MENDIAN_WECHATPAY_PRIVATE_KEY)\n\
  --apiv3-key-file F      the APIv3 key (or MENDIAN_WECHATPAY_APIV3_KEY)\n\
  --base-url URL          instead of https://api.mch.weixin.qq.com (e.g. the emulator's)\n\
  --timeout-ms N          per HTTP exchange (default 10000)\n"
    };
}

pub(super) fn commands() -> Vec<Command> {
    vec![
        Command {
            words: &["wechatpay", "download-certificates"],
            summary: "Download, verify and decrypt the WeChat Pay platform certificates",
            spec: Spec {
                options: &["mchid", "serial", "base-url", "timeout-ms", "out"],
                switches: &["json"],
                positionals: &[],
                secrets: SECRETS,
            },
            help: concat!(
                "Usage: mendian wechatpay download-certificates --mchid ID --serial SERIAL\n",
                "         --private-key-file F --apiv3-key-file F [--out DIR] [--json]\n\n",
                "Calls GET /v3/certificates, checks the list's signature with the certificates it\n",
                "carries, decrypts each with the APIv3 key and checks its serial and validity.\n",
                "Prints the certificates (PEM), or with --out writes <DIR>/<serial>.pem and prints\n",
                "the paths.\n\n",
                merchant_help!()
            ),
            run: download_certificates,
        },
        Command {
            words: &["wechatpay", "verify-notification"],
            summary: "Verify and decrypt a saved WeChat Pay notification",
            spec: Spec {
                options: &[
                    "mchid",
                    "serial",
                    "base-url",
                    "timeout-ms",
                    "headers",
                    "body",
                    "public-key-id",
                    "public-key-file",
                ],
                switches: &["json", "saved"],
                positionals: &[],
                secrets: SECRETS,
            },
            help: concat!(
                "Usage: mendian wechatpay verify-notification --headers FILE --body FILE\n",
                "         --mchid ID --serial SERIAL --apiv3-key-file F\n",
                "         (--private-key-file F | --public-key-id PUB_KEY_ID_… --public-key-file F)\n",
                "         [--saved] [--json]\n\n",
                "--headers holds the notification's HTTP headers, as `Name: value` lines or one JSON\n",
                "object; --body its raw body (`-`: standard input). The signature is checked with the\n",
                "WeChat Pay public key (--public-key-*) or with the platform certificates, downloaded\n",
                "with the merchant key. The 5-minute replay window applies unless --saved (for\n",
                "notifications saved earlier). Prints the event and the decrypted resource.\n\n",
                merchant_help!()
            ),
            run: verify_notification,
        },
    ]
}

/// Stands in for the merchant key when none was given: only needed to sign a request, which
/// then fails naming the missing option.
struct NoMerchantKey;

fn no_merchant_key() -> MendianError {
    MendianError::Credentials {
        reason: "this needs the merchant private key: pass --private-key-file or set MENDIAN_WECHATPAY_PRIVATE_KEY".into(),
    }
}

#[async_trait::async_trait]
impl WechatpayMerchantSigner for NoMerchantKey {
    async fn sign(&self, _request: WechatpaySignRequest) -> Result<String, MendianError> {
        Err(no_merchant_key())
    }

    async fn decrypt(&self, _ciphertext_base64: String) -> Result<String, MendianError> {
        Err(no_merchant_key())
    }
}

/// The client the flags describe; `need_key` makes the private key required.
fn client(a: &Args, need_key: bool) -> Result<Arc<WechatpayClient>, Failure> {
    let mut config = WechatpayConfig::new(
        a.required("mchid", Some("MENDIAN_WECHATPAY_MCHID"))?,
        a.required("serial", Some("MENDIAN_WECHATPAY_MERCHANT_SERIAL_NO"))?,
    );
    config.apiv3_key = Some(a.required_secret("apiv3-key", "MENDIAN_WECHATPAY_APIV3_KEY")?);
    config.options = client_options(a)?;
    match (a.option("public-key-id", None), a.option("public-key-file", None)) {
        (Some(id), Some(file)) => {
            config.wechatpay_public_key_id = Some(id);
            config.wechatpay_public_key_pem = Some(read_input(&file, "--public-key-file")?);
        }
        (None, None) => {}
        _ => return Err(Failure::Usage("--public-key-id and --public-key-file go together".into())),
    }
    let signer: Arc<dyn WechatpayMerchantSigner> = match a.secret("private-key", "MENDIAN_WECHATPAY_PRIVATE_KEY")? {
        Some(pem) => Arc::new(PemMerchantSigner::new(&pem)?),
        None if need_key || config.wechatpay_public_key_id.is_none() => {
            return Err(Failure::Usage(
                "the private-key is needed (to sign the certificate download): put it in a file and pass --private-key-file, or set MENDIAN_WECHATPAY_PRIVATE_KEY".into(),
            ))
        }
        None => Arc::new(NoMerchantKey),
    };
    Ok(WechatpayClient::create(config, signer)?)
}

fn download_certificates(a: &Args) -> Result<Report, Failure> {
    let client = client(a, true)?;
    let started = Instant::now();
    progress("downloading the platform certificates (GET /v3/certificates)");
    let certs = blocking::run(client.platform_certificates())?;
    progress(&format!(
        "{} certificate(s), verified and decrypted in {} ms",
        certs.len(),
        started.elapsed().as_millis()
    ));
    let mut text = String::new();
    let mut list = Vec::new();
    let out = a.option("out", None);
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).map_err(|e| Failure::Usage(format!("--out {dir}: {e}")))?;
    }
    for c in &certs {
        let mut entry = json!({
            "serial_no": c.serial_no, "effective_time": c.effective_time, "expire_time": c.expire_time,
        });
        text.push_str(&format!("serial {}  valid {} to {}\n", c.serial_no, c.effective_time, c.expire_time));
        match &out {
            Some(dir) => {
                let path = std::path::Path::new(dir).join(format!("{}.pem", c.serial_no));
                std::fs::write(&path, &c.certificate_pem)
                    .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
                text.push_str(&format!("  written to {}\n", path.display()));
                entry["path"] = json!(path.display().to_string());
            }
            None => {
                text.push_str(&c.certificate_pem);
                if !c.certificate_pem.ends_with('\n') {
                    text.push('\n');
                }
                entry["certificate_pem"] = json!(c.certificate_pem);
            }
        }
        list.push(entry);
    }
    Ok(Report { text, json: Value::Array(list) })
}

/// HTTP headers from `Name: value` lines (a status or request line first is skipped) or from
/// one JSON object.
fn parse_headers(text: &str) -> Result<HashMap<String, String>, Failure> {
    if text.trim_start().starts_with('{') {
        let v: HashMap<String, Value> = serde_json::from_str(text)
            .map_err(|e| Failure::Usage(format!("--headers: not a JSON object of headers: {e}")))?;
        return v
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                Value::Number(n) => Ok((k, n.to_string())),
                _ => Err(Failure::Usage(format!("--headers: the value of {k} must be a string"))),
            })
            .collect();
    }
    let mut headers = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (n == 0 && (line.starts_with("HTTP/") || line.contains(" HTTP/"))) {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| Failure::Usage(format!("--headers line {}: expected `Name: value`", n + 1)))?;
        headers.insert(name.trim().to_string(), value.trim().to_string());
    }
    Ok(headers)
}

fn verify_notification(a: &Args) -> Result<Report, Failure> {
    let headers = parse_headers(&read_input(&a.required("headers", None)?, "--headers")?)?;
    let body = read_input(&a.required("body", None)?, "--body")?;
    let client = client(a, false)?;
    if a.option("public-key-id", None).is_none() {
        progress("verifying with the platform certificates (downloading them)");
    }
    let n = if a.switch("saved") {
        blocking::run(client.verify_saved_notification(headers, body))?
    } else {
        blocking::run(client.notification(headers, body))?
    };
    let resource: Value = serde_json::from_str(&n.plaintext).unwrap_or(Value::String(n.plaintext.clone()));
    let text = format!(
        "verified: {} ({}) id {} at {}\nsummary: {}\nresource ({}):\n{}\n",
        n.event_type,
        n.resource_type,
        n.id,
        n.create_time,
        n.summary,
        n.original_type,
        serde_json::to_string_pretty(&resource).unwrap_or_else(|_| n.plaintext.clone())
    );
    let json = json!({
        "id": n.id, "create_time": n.create_time, "event_type": n.event_type, "resource_type": n.resource_type,
        "summary": n.summary, "original_type": n.original_type, "resource": resource,
    });
    Ok(Report { text, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_lines_or_json() {
        let h = parse_headers("HTTP/1.1 200 OK\r\nWechatpay-Serial: ABC\r\nWechatpay-Nonce:  n1 \r\n\r\n").unwrap();
        assert_eq!(h.get("Wechatpay-Serial").map(String::as_str), Some("ABC"));
        assert_eq!(h.get("Wechatpay-Nonce").map(String::as_str), Some("n1"));
        let h = parse_headers(r#"{"Wechatpay-Timestamp": 1700000000}"#).unwrap();
        assert_eq!(h.get("Wechatpay-Timestamp").map(String::as_str), Some("1700000000"));
        assert!(matches!(parse_headers("no colon here"), Err(Failure::Usage(m)) if m.contains("line 1")));
    }
}
