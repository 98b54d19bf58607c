//! `mendian wxa token` and `mendian wxa verify-push`: the built-in token providers and the push
//! receiver, from the command line.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::json;

use super::args::{read_input, Args, Spec};
use super::{progress, Command, Failure, Report};
use crate::runtime::blocking;
use crate::wxa::events::{WxaPushConfig, WxaPushReceiver};
use crate::wxa::token::{secret_provider, Kind};

pub(super) fn commands() -> Vec<Command> {
    vec![
        Command {
            words: &["wxa", "token"],
            summary: "Fetch an access token with the AppSecret (stable_token, or the classic token)",
            spec: Spec {
                options: &["appid", "base-url"],
                switches: &["json", "classic", "force-refresh"],
                positionals: &[],
                secrets: &[("app-secret", "MENDIAN_WXA_APP_SECRET")],
            },
            help: "Usage: mendian wxa token --appid APPID --app-secret-file F [--classic] [--force-refresh]\n\
                   \x20        [--base-url URL] [--json]\n\n\
                   Prints the access token on standard output (for `TOKEN=$(mendian wxa token …)`)\n\
                   and how long it lives on standard error; with --json, both on standard output.\n\n\
                   \x20 --appid APPID          the AppID (or MENDIAN_WXA_APPID)\n\
                   \x20 --app-secret-file F    the AppSecret (or MENDIAN_WXA_APP_SECRET)\n\
                   \x20 --classic              cgi-bin/token instead of cgi-bin/stable_token (a classic fetch\n\
                   \x20                        invalidates the appid's previous classic token)\n\
                   \x20 --force-refresh        stable_token with force_refresh=true (a new token; limited\n\
                   \x20                        per day by WeChat)\n\
                   \x20 --base-url URL         instead of https://api.weixin.qq.com (e.g. the emulator's)",
            run: token,
        },
        Command {
            words: &["wxa", "verify-push"],
            summary: "Verify, decrypt and parse a saved 门店小程序 push (or a URL verification)",
            spec: Spec {
                options: &["appid", "query", "query-file", "body", "max-skew"],
                switches: &["json", "accept-plain-mode"],
                positionals: &[],
                secrets: &[
                    ("push-token", "MENDIAN_WXA_PUSH_TOKEN"),
                    ("encoding-aes-key", "MENDIAN_WXA_ENCODING_AES_KEY"),
                ],
            },
            help: "Usage: mendian wxa verify-push --appid APPID --push-token-file F [--encoding-aes-key-file F]\n\
                   \x20        (--query 'signature=…&timestamp=…&nonce=…' | --query-file F) [--body FILE]\n\
                   \x20        [--max-skew SECONDS] [--accept-plain-mode] [--json]\n\n\
                   The query string (or the whole URL) of the push and its raw body (`-`: standard\n\
                   input). Without --body, a GET URL verification: prints the echostr to answer with.\n\
                   Safe mode (encrypt_type=aes) needs the EncodingAESKey. Prints the event's name and\n\
                   fields and the plaintext XML.\n\n\
                   \x20 --appid APPID                 your AppID (or MENDIAN_WXA_APPID)\n\
                   \x20 --push-token-file F           the push Token (or MENDIAN_WXA_PUSH_TOKEN)\n\
                   \x20 --encoding-aes-key-file F     the EncodingAESKey (or MENDIAN_WXA_ENCODING_AES_KEY)\n\
                   \x20 --max-skew SECONDS            refuse pushes whose timestamp is further from now\n\
                   \x20                               (default 0: not checked, saved pushes are old)\n\
                   \x20 --accept-plain-mode           accept plain-mode pushes although a key is given",
            run: verify_push,
        },
    ]
}

fn token(a: &Args) -> Result<Report, Failure> {
    let appid = a.required("appid", Some("MENDIAN_WXA_APPID"))?;
    let secret = a.required_secret("app-secret", "MENDIAN_WXA_APP_SECRET")?;
    let (kind, what) =
        if a.switch("classic") { (Kind::Classic, "cgi-bin/token") } else { (Kind::Stable, "cgi-bin/stable_token") };
    if a.switch("classic") && a.switch("force-refresh") {
        return Err(Failure::Usage("--force-refresh is for stable_token; a classic fetch is always new".into()));
    }
    let provider = secret_provider(kind, appid, secret, a.option("base-url", None))?;
    let started = Instant::now();
    progress(&format!("fetching an access token ({what})"));
    let t = blocking::run(provider.fetch_token(a.switch("force-refresh")))?;
    progress(&format!("valid for {} s (fetched in {} ms)", t.expires_in, started.elapsed().as_millis()));
    Ok(Report {
        text: format!("{}\n", t.access_token),
        json: json!({ "access_token": t.access_token, "expires_in": t.expires_in }),
    })
}

/// URL-decoded query parameters from a query string or a whole URL.
fn parse_query(text: &str) -> HashMap<String, String> {
    let text = text.trim();
    let query = text.split_once('?').map(|(_, q)| q).unwrap_or(text);
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn verify_push(a: &Args) -> Result<Report, Failure> {
    let query = match (a.option("query", None), a.option("query-file", None)) {
        (Some(q), None) => q,
        (None, Some(f)) => read_input(&f, "--query-file")?,
        (None, None) => return Err(Failure::Usage("--query or --query-file is required".into())),
        (Some(_), Some(_)) => return Err(Failure::Usage("give --query or --query-file, not both".into())),
    };
    let query = parse_query(&query);
    let max_skew = a.number("max-skew", 0)?;
    let config = WxaPushConfig {
        token: a.required_secret("push-token", "MENDIAN_WXA_PUSH_TOKEN")?,
        encoding_aes_key: a.secret("encoding-aes-key", "MENDIAN_WXA_ENCODING_AES_KEY")?,
        previous_encoding_aes_key: None,
        appid: a.required("appid", Some("MENDIAN_WXA_APPID"))?,
        max_timestamp_skew_seconds: u32::try_from(max_skew)
            .map_err(|_| Failure::Usage(format!("--max-skew is too large: {max_skew}")))?,
        accept_plain_mode: a.switch("accept-plain-mode"),
    };
    let receiver = WxaPushReceiver::create(config)?;
    let Some(body) = a.option("body", None) else {
        let echo = receiver.url_echo(query)?;
        return Ok(Report { text: format!("{echo}\n"), json: json!({ "url_verification": true, "echostr": echo }) });
    };
    let body = read_input(&body, "--body")?;
    let push = receiver.open_push(query, body)?;
    let (name, fields) = push.event.name_and_fields();
    let mode = if push.encrypted { "safe mode (decrypted)" } else { "plain mode" };
    let text = format!(
        "verified: {} in {mode}{}\nfields: {}\nxml:\n{}\n",
        name.as_deref().unwrap_or("(no Event)"),
        if push.used_previous_key { ", with the previous EncodingAESKey" } else { "" },
        serde_json::to_string_pretty(&fields).unwrap_or_default(),
        push.xml
    );
    let json = json!({
        "event": name, "fields": fields, "encrypted": push.encrypted,
        "used_previous_key": push.used_previous_key, "xml": push.xml,
    });
    Ok(Report { text, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_from_a_string_or_a_url() {
        let q = parse_query("https://shop.example/wx?signature=a%2Bb&timestamp=1&nonce=n#x");
        assert_eq!(q.get("signature").map(String::as_str), Some("a+b"));
        assert_eq!(q.get("nonce").map(String::as_str), Some("n"));
        assert_eq!(parse_query("timestamp=2").get("timestamp").map(String::as_str), Some("2"));
    }
}
