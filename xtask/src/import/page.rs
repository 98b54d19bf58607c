//! The neutral shape every platform page is parsed into, whatever its format: the endpoint's
//! method and path, every parameter row and every error row, each with the page line it came
//! from, and the page's version line.

/// One parsed page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's own version line, if it shows one (`最新更新时间:2020.07.10`).
    pub version: Option<String>,
    /// The endpoints the page documents (a WeChat Pay page documents one).
    pub endpoints: Vec<PageEndpoint>,
    /// The pushed events the page documents (门店小程序 event XML and its table).
    pub events: Vec<PageEvent>,
}

/// One documented pushed event.
#[derive(Debug, Clone, PartialEq)]
pub struct PageEvent {
    /// The `Event` value of its XML example.
    pub name: String,
    /// Page line of the `Event` element.
    pub line: usize,
    /// Its fields (the table under the XML), in page order.
    pub fields: Vec<PageField>,
}

/// One documented endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct PageEndpoint {
    /// HTTP method, upper case; empty when the page does not state one (it is then not
    /// compared).
    pub method: String,
    /// Path template (`/v3/smartguide/guides/{guide_id}`; TOP: the gateway path).
    pub path: String,
    /// The API name a gateway routes by (TOP `method`), when the page gives one.
    pub api_name: Option<String>,
    /// Whether `fields` also lists the members of record-typed parameters, as dotted paths
    /// (`worker.address.address_detail`), with their types in the spec's words.
    pub nested: bool,
    /// With `nested`: the page flattens the member tree, so members are named
    /// `<parameter>.<member>` and matched by their last name anywhere under the parameter.
    pub flat_members: bool,
    /// Line of the request URL.
    pub line: usize,
    /// The request parameters, in page order.
    pub fields: Vec<PageField>,
    /// The error rows, in page order, with status and code carried down; `None` when the
    /// page has no error table (TOP metadata), so the spec's errors are not compared.
    pub errors: Option<Vec<PageError>>,
    /// Documented members of the answer (返回参数说明), by wire name; compared with the
    /// response record's members at any depth, and their enum values with the spec's enums.
    /// Members the page does not list are not drift (answers are read from their examples).
    pub response: Vec<PageField>,
    /// The request example (its first line and text), when the page shows one.
    pub request_example: Option<(usize, String)>,
    /// The response example, when the page shows one.
    pub response_example: Option<(usize, String)>,
}

/// One request-parameter row and the lines that belong to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageField {
    /// Page line of the row.
    pub line: usize,
    /// 变量: the wire name (a dotted path for members of records, when `nested`).
    pub name: String,
    /// 参数名: the title.
    pub title: String,
    /// The type as the page writes it (`string`, `int`, …); when `nested`, in the spec's
    /// words (`string`, `int64`, `datetime`, `list<DivisionDto>`, `WorkerDto`).
    pub ty: String,
    /// Length limits as written (`string[1,64]` → 1 and 64; `string(32)` → max 32).
    pub min_length: Option<u32>,
    /// See `min_length`.
    pub max_length: Option<u32>,
    /// How the page counts the length (`chars`, `bytes`, `width` where a Chinese character
    /// counts twice), when it says.
    pub length_unit: Option<&'static str>,
    /// `path`, `query` or `body`; empty when the page does not say.
    pub location: String,
    /// 特殊规则 加密前字段长度限制为N个字节.
    pub plaintext_max_bytes: Option<u32>,
    /// 示例值.
    pub example: Option<String>,
    /// 描述 / 说明, as written.
    pub description: String,
    /// 必填 / 是否必须: `None` when the page has no such column or leaves the cell open.
    pub required: Option<bool>,
    /// The values the description enumerates (`审核状态(1:审核通过,3:审核失败)` → 1, 3), in
    /// page order; empty when it lists fewer than two.
    pub enum_values: Vec<String>,
    /// What each of `enum_values` means, as written (`审核通过`); empty where the page does not
    /// say.
    pub enum_meanings: Vec<String>,
}

/// One error row.
#[derive(Debug, Clone, PartialEq)]
pub struct PageError {
    /// Page line of the row.
    pub line: usize,
    /// HTTP status.
    pub status: Option<u16>,
    /// The error code.
    pub code: String,
    /// 描述.
    pub description: String,
    /// 解决方案.
    pub remedy: Option<String>,
}

/// Why a page could not be parsed: the line it stopped at and what it expected there.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}
