//! The spec model: what one `spec/<family>.toml` file may say, as Rust types.
//!
//! Every struct denies unknown keys, so a typo in a spec file is an error with its line
//! rather than a silently ignored fact. Items whose position matters for later semantic
//! checks (fields, endpoints, type references) keep their source span through
//! [`Spanned`], which dereferences to the inner value.

use serde::{de, Deserialize, Deserializer};

/// A value together with the byte range it came from in its spec file, so later checks can
/// report the right line. Dereferences to the value.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    value: T,
    span: std::ops::Range<usize>,
}

impl<T> Spanned<T> {
    /// The value.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// Byte range in the source file.
    pub fn span(&self) -> std::ops::Range<usize> {
        self.span.clone()
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = toml::Spanned::<T>::deserialize(d)?;
        let span = s.span();
        Ok(Spanned { value: s.into_inner(), span })
    }
}

/// One spec file: one API family of one platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// What the family is and where it lives.
    pub family: Family,
    /// Enumerations used by fields (closed sets of documented values).
    #[serde(default)]
    pub enums: Vec<Spanned<EnumDef>>,
    /// Named record types used by fields, responses and events.
    #[serde(default)]
    pub types: Vec<Spanned<TypeDef>>,
    /// The HTTP endpoints of the family.
    #[serde(default)]
    pub endpoints: Vec<Spanned<Endpoint>>,
    /// Pushed events (e.g. XML audit notifications).
    #[serde(default)]
    pub events: Vec<Spanned<Event>>,
    /// Error codes every endpoint of the family may answer (platform/common codes).
    #[serde(default)]
    pub errors: Vec<Spanned<ErrorCode>>,
}

/// The platform a family belongs to; it selects the runtime's signing and envelope logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// WeChat Pay APIv3 (`api.mch.weixin.qq.com`).
    Wechatpay,
    /// WeChat official account / mini-program APIs (`api.weixin.qq.com`).
    Wxa,
    /// Taobao Open Platform.
    Top,
}

/// Family-level facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// Module name of the generated code (`wechatpay`, `wxa`, `top`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// What the family is for.
    pub description: String,
    /// Which platform runtime serves it.
    pub platform: Platform,
    /// The production base URL (TOP: the gateway URL); generated as `BASE_URL`, the
    /// clients' default.
    pub base_url: String,
    /// The documented backup, tried once when `base_url` cannot be reached; generated as
    /// `BACKUP_BASE_URL`.
    #[serde(default)]
    pub backup_base_url: Option<String>,
    /// Other documented base URLs the clients never use on their own (another region, an
    /// older address); each generated as `<NAME>_BASE_URL` for `options.base_url`.
    #[serde(default)]
    pub other_base_urls: Vec<Spanned<OtherBaseUrl>>,
    /// The documents the facts come from (file names under the shared docs, or URLs).
    pub sources: Vec<String>,
    /// Main documentation URL.
    #[serde(default)]
    pub doc_url: Option<String>,
    /// Whether the platform rejects strings containing 4-byte UTF-8 characters (emoji).
    #[serde(default)]
    pub reject_supplementary_chars: bool,
    /// Response envelopes used by the family; endpoints name one of them.
    #[serde(default)]
    pub envelopes: Vec<Envelope>,
    /// The envelope an endpoint uses unless it names another.
    #[serde(default)]
    pub default_envelope: Option<Spanned<String>>,
    /// Inputs every endpoint of the family takes that the runtime supplies itself
    /// (credentials, signatures, system parameters): documented here, never part of a
    /// request record.
    #[serde(default)]
    pub common_fields: Vec<Spanned<Field>>,
    /// Family-wide quirks worth knowing.
    #[serde(default)]
    pub quirks: Vec<String>,
    /// The platform pages the facts were read from, kept as snapshots under `spec/docs/`.
    #[serde(default)]
    pub documents: Vec<Spanned<Document>>,
}

/// A deliberate difference between the spec and the page it was read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The difference as `cargo xtask import` names it, e.g. `field sub_mchid: not on the page`.
    pub fact: String,
    /// Why the spec differs.
    pub reason: String,
}

/// A documented base URL that is not the default or its backup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherBaseUrl {
    /// snake_case name (`overseas`), generated as `OVERSEAS_BASE_URL`.
    pub name: String,
    /// The URL.
    pub url: String,
    /// When to use it, and why it is not a failover target.
    pub note: String,
}

/// A platform page kept in the repository (`spec/docs/<family>/…`), with what identifies the
/// version the spec was checked against: the page's own version line, if it has one, and the
/// SHA-256 of the snapshot. Loading the spec from its directory fails when the snapshot no
/// longer matches, so a changed page cannot go unnoticed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// snake_case identifier endpoints and events refer to.
    pub id: String,
    /// Path of the snapshot, relative to the spec directory (`docs/wxa/store-miniprogram.txt`).
    pub path: String,
    /// The page's title.
    pub title: String,
    /// Where the page is published, when known.
    #[serde(default)]
    pub url: Option<String>,
    /// The page's own version line, verbatim (`最新更新时间:2020.07.10`); absent when the page
    /// shows none.
    #[serde(default)]
    pub version: Option<String>,
    /// When the snapshot was taken (YYYY-MM-DD).
    pub snapshot_date: String,
    /// SHA-256 (lower-case hex) of the snapshot's bytes.
    pub sha256: String,
}

/// A response envelope shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Identifier endpoints refer to.
    pub name: String,
    /// What the envelope looks like on the wire and how errors appear in it.
    pub description: String,
}

/// How enum values are written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumRepr {
    /// JSON/XML integers.
    Int,
    /// Strings.
    String,
}

/// A closed set of documented values. Generated enums also get an `Unknown` catch-all.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    /// PascalCase type name, unique across all families.
    pub name: String,
    /// What the enum describes.
    pub description: String,
    /// Wire representation.
    pub repr: EnumRepr,
    /// The documented values.
    pub values: Vec<EnumValue>,
}

/// One documented enum value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// The wire value (an integer for `repr = "int"`, a string otherwise).
    pub value: toml::Value,
    /// PascalCase variant name.
    pub name: String,
    /// The documented meaning.
    pub meaning: String,
}

/// A named record type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    /// PascalCase type name, unique across all families.
    pub name: String,
    /// What the record holds.
    pub description: String,
    /// Its fields in wire order.
    pub fields: Vec<Spanned<Field>>,
    /// Quirks of this shape.
    #[serde(default)]
    pub quirks: Vec<String>,
}

/// Where a request input goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Substituted into the path template.
    Path,
    /// A URL query parameter.
    Query,
    /// A member of the JSON request body.
    Body,
    /// A form field (`application/x-www-form-urlencoded`).
    Form,
    /// A part of a `multipart/form-data` body.
    Multipart,
    /// An HTTP header (runtime-supplied common fields only).
    Header,
}

/// How lengths are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    /// Unicode scalar values.
    Chars,
    /// UTF-8 bytes.
    Bytes,
    /// Display width: a CJK (non-ASCII) character counts 2, ASCII counts 1.
    Width,
}

/// Named string formats the runtime knows how to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An absolute `http://` or `https://` URL.
    Url,
    /// Opening hours `HH:MM-HH:MM`.
    HourRange,
    /// One or more telephone numbers separated by `;`.
    PhoneList,
    /// A category written `一级:二级`.
    CategoryPair,
    /// Values separated by `|`.
    PipeList,
    /// A date-time written `yyyy-MM-dd HH:mm:ss`.
    DateTime,
    /// A decimal number written as a string (e.g. a longitude).
    DecimalString,
    /// Decimal digits only.
    Digits,
    /// A media file (a `bytes` field) whose kind is the request's sibling `type` field
    /// (`image`, `voice`, `video`, `thumb`): the runtime checks its format by its magic bytes
    /// and its size against the limit of that kind.
    MediaFile,
}

/// How a field's value is encoded inside its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The value is serialized to compact JSON and sent as a string (JSON inside JSON, or a
    /// complex TOP parameter).
    JsonString,
}

/// Which merchant mode a field applies to (WeChat Pay direct merchant vs 服务商 partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// 直连商户.
    Direct,
    /// 服务商 acting for a sub-merchant.
    Partner,
}

/// A field of a request, record type, response or event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The wire name exactly as documented.
    pub name: String,
    /// The documented title (参数名), e.g. `服务人员ID`.
    pub title: String,
    /// The documented description.
    pub description: String,
    /// Where the field goes; request fields only.
    #[serde(default)]
    pub location: Option<Location>,
    /// The type expression: `string`, `int32`, `int64`, `float64`, `bool`, `datetime`,
    /// `json`, `list<T>` or the name of an enum or record type.
    #[serde(rename = "type")]
    pub ty: Spanned<TypeExpr>,
    /// Whether the documents mark it required.
    #[serde(default)]
    pub required: bool,
    /// Minimum length (needs `length_unit`).
    #[serde(default)]
    pub min_length: Option<u32>,
    /// Maximum length (needs `length_unit`).
    #[serde(default)]
    pub max_length: Option<u32>,
    /// How `min_length`/`max_length` are counted.
    #[serde(default)]
    pub length_unit: Option<LengthUnit>,
    /// The value is encrypted on the wire (WeChat Pay sensitive field).
    #[serde(default)]
    pub encrypted: bool,
    /// Byte limit of the plaintext before encryption.
    #[serde(default)]
    pub plaintext_max_bytes: Option<u32>,
    /// Minimum numeric value.
    #[serde(default)]
    pub minimum: Option<i64>,
    /// Maximum numeric value.
    #[serde(default)]
    pub maximum: Option<i64>,
    /// Minimum number of list items.
    #[serde(default)]
    pub min_items: Option<u32>,
    /// Maximum number of list items.
    #[serde(default)]
    pub max_items: Option<u32>,
    /// A checked string format.
    #[serde(default)]
    pub format: Option<Format>,
    /// How the value is encoded inside its location.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// The decoder accepts the value as number or string (and booleans as strings).
    #[serde(default)]
    pub lenient: bool,
    /// A credential (AppSecret, access token): shown as `<redacted>` by the record's `Debug`
    /// and `Display`, and so by Python `str`/`repr`, Kotlin `toString` and Swift
    /// `description`.
    #[serde(default)]
    pub secret: bool,
    /// The documented default applied by the server when the field is absent or zero.
    #[serde(default)]
    pub server_default: Option<toml::Value>,
    /// The documented example value.
    #[serde(default)]
    pub example: Option<toml::Value>,
    /// Only meaningful in this merchant mode.
    #[serde(default)]
    pub only_in: Option<Mode>,
    /// What about this field is our reading rather than the document's words (a separator,
    /// a range, a count limit read from an example), and why. Generated docs show it marked
    /// as inferred, so a user can tell a document fact from our interpretation.
    #[serde(default)]
    pub inferred: Option<String>,
    /// Quirks of this field.
    #[serde(default)]
    pub quirks: Vec<String>,
}

/// When a failed call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// Never retried automatically (not idempotent).
    Never,
    /// Retried with the same parameters on transient errors (system busy, 5xx, rate limit,
    /// transport failure) — the documents say so or the call is idempotent.
    Transient,
}

/// One HTTP endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// snake_case identifier, unique across all families; names the generated records.
    pub id: String,
    /// Documented title.
    pub title: String,
    /// What it does.
    pub summary: String,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template with `{name}` placeholders for path fields.
    pub path: String,
    /// The platform API name where the platform routes by name (TOP `method`).
    #[serde(default)]
    pub api_name: Option<String>,
    /// Documentation URL.
    #[serde(default)]
    pub doc_url: Option<String>,
    /// The ids of the family's `documents` this endpoint's facts were read from; empty when
    /// no snapshot of its page is kept (its `doc_url` and the family's `sources` say where the
    /// facts come from).
    #[serde(default)]
    pub documents: Vec<Spanned<String>>,
    /// HTTP status of success.
    #[serde(default = "default_status")]
    pub success_status: u16,
    /// Who may call it (e.g. 直连商户, 服务商).
    #[serde(default)]
    pub modes: Vec<Mode>,
    /// Retry guidance.
    pub retry: Retry,
    /// Why that retry guidance (the document's words).
    #[serde(default)]
    pub retry_note: Option<String>,
    /// The request inputs, each with its location.
    #[serde(default)]
    pub fields: Vec<Spanned<Field>>,
    /// Optional fields of which a request must set at least one (an update with nothing to
    /// update): generated as a check that names them all.
    #[serde(default)]
    pub at_least_one_of: Vec<Spanned<String>>,
    /// The record type of a successful response body; absent when there is no body.
    #[serde(default)]
    pub response: Option<Spanned<String>>,
    /// Which family envelope wraps the response, when it is not the family default.
    #[serde(default)]
    pub envelope: Option<Spanned<String>>,
    /// The documented request example (as text).
    #[serde(default)]
    pub request_example: Option<String>,
    /// The documented response example (as text).
    #[serde(default)]
    pub response_example: Option<String>,
    /// Endpoint-specific error codes.
    #[serde(default)]
    pub errors: Vec<Spanned<ErrorCode>>,
    /// Quirks of this endpoint.
    #[serde(default)]
    pub quirks: Vec<String>,
    /// Deliberate differences between the spec and its page: `cargo xtask import` reports a
    /// difference whose key is listed here as "deviates, because …", never as drift.
    #[serde(default)]
    pub deviations: Vec<Spanned<Deviation>>,
    /// How this endpoint pages through a list, when it does: the generator then adds a call
    /// that walks every page.
    #[serde(default)]
    pub paging: Option<Spanned<Paging>>,
}

/// How a list endpoint pages, read from its `[endpoints.paging]` table.
///
/// Offset paging names `offset` and `limit` (the page size is the limit field's `maximum`);
/// numbered paging names `page` and `first_page`. Either way the walk ends on a short or
/// empty page, when `total` items were read, or on the business error `end_code`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Name of the generated call that returns every item (e.g. `get_all_stores`).
    pub all: String,
    /// Request field holding the index of the first item to return (offset paging).
    #[serde(default)]
    pub offset: Option<String>,
    /// Request field holding the page size (offset paging); it must have a `maximum`.
    #[serde(default)]
    pub limit: Option<String>,
    /// Request field holding the page number (numbered paging).
    #[serde(default)]
    pub page: Option<String>,
    /// The number of the first page (numbered paging).
    #[serde(default)]
    pub first_page: Option<i64>,
    /// Dot-separated path in the response to the page's items: a list, or a text holding
    /// the whole page (collected one text per page).
    pub items: String,
    /// Response field with the total number of items, when the platform sends one.
    #[serde(default)]
    pub total: Option<String>,
    /// Business error code with which the platform answers a page past the last one.
    #[serde(default)]
    pub end_code: Option<String>,
}

fn default_status() -> u16 {
    200
}

/// HTTP methods used by the platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The method as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// A pushed event (WeChat XML notification).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The `Event` value that identifies it, e.g. `add_store_audit_info`.
    pub name: String,
    /// PascalCase record name for the typed event, unique across all families.
    pub record: String,
    /// Documented title.
    pub title: String,
    /// What it reports.
    pub description: String,
    /// The `MsgType` it arrives with.
    pub msg_type: String,
    /// The ids of the family's `documents` this event's facts were read from.
    #[serde(default)]
    pub documents: Vec<Spanned<String>>,
    /// Its fields (XML element names as documented).
    pub fields: Vec<Spanned<Field>>,
    /// The documented example payload.
    #[serde(default)]
    pub example: Option<String>,
    /// Quirks of this event.
    #[serde(default)]
    pub quirks: Vec<String>,
    /// Deliberate differences from the event's documents, as for endpoints.
    #[serde(default)]
    pub deviations: Vec<Spanned<Deviation>>,
}

/// A documented error code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCode {
    /// HTTP status it arrives with, where the platform uses them.
    #[serde(default)]
    pub status: Option<u16>,
    /// The code as text (numbers written as strings, e.g. `"85024"`).
    pub code: String,
    /// A sub-code (TOP `sub_code`), when the entry is about one.
    #[serde(default)]
    pub sub_code: Option<String>,
    /// The documented description (often the message the server sends).
    pub description: String,
    /// The documented remedy.
    #[serde(default)]
    pub remedy: Option<String>,
    /// The remedy is ours, not the document's (the page lists codes without remedies).
    #[serde(default)]
    pub remedy_inferred: bool,
    /// Whether retrying the same request later may succeed.
    #[serde(default)]
    pub retryable: bool,
}

/// A parsed type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// UTF-8 text.
    String,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// Double-precision number.
    Float64,
    /// Boolean.
    Bool,
    /// A date-time (`yyyy-MM-dd HH:mm:ss` on the wire), kept as text.
    DateTime,
    /// Arbitrary JSON, kept as its text.
    Json,
    /// Raw bytes (a file uploaded as a multipart part).
    Bytes,
    /// A list of items.
    List(Box<TypeExpr>),
    /// An enum or record defined in some spec file.
    Named(String),
}

impl TypeExpr {
    /// Parses the textual form used in spec files.
    pub fn parse(s: &str) -> Result<TypeExpr, String> {
        let s = s.trim();
        Ok(match s {
            "string" => TypeExpr::String,
            "int32" => TypeExpr::Int32,
            "int64" => TypeExpr::Int64,
            "float64" => TypeExpr::Float64,
            "bool" => TypeExpr::Bool,
            "datetime" => TypeExpr::DateTime,
            "json" => TypeExpr::Json,
            "bytes" => TypeExpr::Bytes,
            _ => {
                if let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
                    return Ok(TypeExpr::List(Box::new(TypeExpr::parse(inner)?)));
                }
                let mut chars = s.chars();
                let pascal = chars.next().is_some_and(|c| c.is_ascii_uppercase())
                    && chars.all(|c| c.is_ascii_alphanumeric());
                if !pascal {
                    return Err(format!(
                        "unknown type `{s}`: expected string, int32, int64, float64, bool, datetime, json, bytes, list<T> or a PascalCase type name"
                    ));
                }
                TypeExpr::Named(s.to_string())
            }
        })
    }

    /// The innermost item type (the type itself unless it is a list).
    pub fn leaf(&self) -> &TypeExpr {
        match self {
            TypeExpr::List(inner) => inner.leaf(),
            other => other,
        }
    }
}

impl<'de> Deserialize<'de> for TypeExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TypeExpr::parse(&s).map_err(de::Error::custom)
    }
}
