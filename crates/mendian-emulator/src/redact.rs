//! Redaction of the request log: credentials a client sent (the `Authorization` signature,
//! `access_token`, the AppSecret of a token request, TOP's `sign` and `session`) never
//! appear in `GET /__admin/requests`, which tests print freely. The emulator checks the
//! requests before they are redacted; only the log is affected.

/// Query and form parameters whose values are replaced.
const SECRET_PARAMS: &[&str] = &["access_token", "secret", "sign", "session", "appsecret"];

/// JSON body members whose values are replaced.
const SECRET_MEMBERS: &[&str] = &["secret", "access_token", "appsecret"];

const REDACTED: &str = "<redacted>";

/// A query string or form body with secret parameter values replaced.
pub(crate) fn params(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A body: JSON objects lose secret members, form bodies secret parameters; anything else
/// is kept.
pub(crate) fn body(text: &str, content_type: &str) -> String {
    if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(text) {
        let mut changed = false;
        for m in SECRET_MEMBERS {
            if let Some(v) = map.get_mut(*m) {
                *v = serde_json::Value::String(REDACTED.into());
                changed = true;
            }
        }
        return if changed { serde_json::Value::Object(map).to_string() } else { text.to_string() };
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return params(text);
    }
    text.to_string()
}

/// A header value: the `signature="…"` of an `Authorization` header is replaced.
pub(crate) fn header(name: &str, value: &str) -> String {
    if !name.eq_ignore_ascii_case("authorization") {
        return value.to_string();
    }
    match value.find("signature=\"") {
        Some(i) => {
            let start = i + "signature=\"".len();
            let end = value[start..].find('"').map(|e| start + e).unwrap_or(value.len());
            format!("{}{REDACTED}{}", &value[..start], &value[end..])
        }
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_and_the_rest_kept() {
        assert_eq!(params("access_token=T&offset=1"), "access_token=<redacted>&offset=1");
        assert_eq!(params("grant_type=client_credential&appid=wx1&secret=S"), "grant_type=client_credential&appid=wx1&secret=<redacted>");
        assert_eq!(body(r#"{"appid":"wx1","secret":"S"}"#, "application/json"), r#"{"appid":"wx1","secret":"<redacted>"}"#);
        assert_eq!(body("method=x&sign=ABC&session=s", "application/x-www-form-urlencoded;charset=UTF-8"), "method=x&sign=<redacted>&session=<redacted>");
        assert_eq!(
            header("Authorization", r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="SIG",timestamp="1""#),
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="<redacted>",timestamp="1""#
        );
        assert_eq!(body(r#"{"avatar":"https://x/a"}"#, "application/json"), r#"{"avatar":"https://x/a"}"#);
    }
}
