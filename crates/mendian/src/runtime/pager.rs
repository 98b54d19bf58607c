//! Walking every page of a list endpoint. The generated `*_all` calls (from the spec's
//! `[endpoints.paging]` tables) supply one closure that fetches a page; the rules for when
//! the walk ends, and the limits that keep a misbehaving server from making it run forever,
//! live here once.

use std::future::Future;

use crate::error::MendianError;

/// The most pages one walk reads. A server that ignores the offset (or page number) and
/// keeps answering full pages is stopped here with a `Decode` error instead of looping.
pub const MAX_PAGES: usize = 10_000;

/// The most items one walk collects.
pub const MAX_ITEMS: usize = 1_000_000;

/// One page as the walk sees it.
#[derive(Debug)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// The total number of items, when the platform says.
    pub total: Option<i64>,
}

fn too_many(what: &str, reason: String) -> MendianError {
    MendianError::Decode { what: format!("the pages of {what}"), reason }
}

/// Reads offset pages of `limit` items starting at `start`, until a page comes back short
/// or empty, or `total` items have been read (a short page ends the walk even when `total`
/// claims more, so a miscounting server cannot make it loop). `fetch(offset, limit)` reads
/// one page; `what` names the endpoint in errors.
pub async fn by_offset<T, F, Fut>(what: &str, start: i64, limit: i64, mut fetch: F) -> Result<Vec<T>, MendianError>
where
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = Result<Page<T>, MendianError>>,
{
    if start < 0 {
        return Err(MendianError::invalid("offset", format!("must be at least 0, got {start}")));
    }
    if limit < 1 {
        return Err(MendianError::invalid("limit", format!("must be at least 1 to page, got {limit}")));
    }
    let mut all = Vec::new();
    let mut offset = start;
    for _ in 0..MAX_PAGES {
        let page = fetch(offset, limit).await?;
        let got = page.items.len();
        all.extend(page.items);
        if all.len() > MAX_ITEMS {
            return Err(too_many(what, format!("more than {MAX_ITEMS} items; page by hand")));
        }
        let read = i64::try_from(got).unwrap_or(i64::MAX);
        if read < limit || page.total.is_some_and(|t| offset.saturating_add(read) >= t) {
            return Ok(all);
        }
        offset = offset.checked_add(read).ok_or_else(|| too_many(what, "the offset overflows".into()))?;
    }
    Err(too_many(what, format!("still full after {MAX_PAGES} pages: the server seems to ignore the offset")))
}

/// Reads numbered pages from `first` until a page comes back empty or the platform answers
/// the business error `end_code` (which means "past the last page", not a failure).
/// `fetch(page)` reads one page; `what` names the endpoint in errors.
pub async fn by_number<T, F, Fut>(what: &str, first: i64, end_code: Option<&str>, mut fetch: F) -> Result<Vec<T>, MendianError>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Page<T>, MendianError>>,
{
    let mut all = Vec::new();
    let mut number = first;
    for _ in 0..MAX_PAGES {
        let page = match fetch(number).await {
            Ok(page) => page,
            Err(MendianError::Api { code, sub_code, .. })
                if end_code.is_some_and(|end| code == end || sub_code.as_deref() == Some(end)) =>
            {
                return Ok(all)
            }
            Err(e) => return Err(e),
        };
        if page.items.is_empty() {
            return Ok(all);
        }
        all.extend(page.items);
        if all.len() > MAX_ITEMS {
            return Err(too_many(what, format!("more than {MAX_ITEMS} items; page by hand")));
        }
        number = number.checked_add(1).ok_or_else(|| too_many(what, "the page number overflows".into()))?;
    }
    Err(too_many(what, format!("still not at the end after {MAX_PAGES} pages")))
}

/// A page held as one text (TOP answers a page of workers as JSON text): none when it is
/// absent, blank or an empty JSON list, so the walk ends there.
pub fn text_page(value: Option<String>) -> Vec<String> {
    value.filter(|v| !matches!(v.trim(), "" | "[]" | "null")).into_iter().collect()
}

/// `n` as the request field's integer type, or `InvalidArgument` naming the field.
pub fn narrow<N: TryFrom<i64>>(field: &str, n: i64) -> Result<N, MendianError> {
    N::try_from(n).map_err(|_| MendianError::invalid(field, format!("{n} is out of range while paging")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn offset_walk_ends_on_a_short_page_or_the_total() {
        let data: Vec<i64> = (0..23).collect();
        let mut calls = Vec::new();
        let got = block(by_offset("t", 0, 10, |o, l| {
            calls.push(o);
            let items = data.iter().copied().skip(o as usize).take(l as usize).collect();
            async move { Ok(Page { items, total: None }) }
        }))
        .unwrap();
        assert_eq!(got, data);
        assert_eq!(calls, [0, 10, 20]);

        let mut calls = 0;
        let got = block(by_offset("t", 0, 5, |o, l| {
            calls += 1;
            let items = data.iter().copied().skip(o as usize).take(l as usize).collect();
            async move { Ok(Page { items, total: Some(10) }) }
        }))
        .unwrap();
        assert_eq!(got.len(), 10);
        assert_eq!(calls, 2, "stops once total is reached without asking for an empty page");
    }

    #[test]
    fn a_server_ignoring_the_offset_is_stopped() {
        let mut calls = 0usize;
        let err = block(by_offset("get_store_list", 0, 2, |_, _| {
            calls += 1;
            async { Ok(Page { items: vec![1, 2], total: None }) }
        }))
        .unwrap_err();
        assert!(matches!(&err, MendianError::Decode { what, reason } if what.contains("get_store_list") && reason.contains("ignore the offset")), "{err}");
        assert_eq!(calls, MAX_PAGES);
    }

    #[test]
    fn huge_offsets_fail_cleanly() {
        let err = block(by_offset("t", i64::MAX - 1, 2, |_, _| async { Ok(Page { items: vec![1, 2], total: None }) })).unwrap_err();
        assert!(matches!(err, MendianError::Decode { .. }), "{err}");
        assert!(matches!(block(by_offset::<i32, _, _>("t", -1, 2, |_, _| async { unreachable!() })), Err(MendianError::InvalidArgument { .. })));
        assert!(narrow::<i32>("offset", i64::from(i32::MAX) + 1).is_err());
    }

    #[test]
    fn numbered_walk_ends_on_the_end_code_or_an_empty_page() {
        let end = |n: i64| MendianError::Api {
            platform: crate::error::Platform::Top,
            http_status: None,
            code: "20001".into(),
            sub_code: None,
            server_message: "已查询到最后一页".into(),
            description: None,
            remedy: None,
            retryable: false,
            request_id: Some(n.to_string()),
            detail: None,
        };
        let got = block(by_number("t", 1, Some("20001"), |n| async move {
            if n <= 3 {
                Ok(Page { items: text_page(Some(format!("[{n}]"))), total: None })
            } else {
                Err(end(n))
            }
        }))
        .unwrap();
        assert_eq!(got, ["[1]", "[2]", "[3]"]);
        let got = block(by_number("t", 1, None, |n| async move { Ok(Page { items: text_page((n < 3).then(|| "[1]".to_string())), total: None }) })).unwrap();
        assert_eq!(got.len(), 2);
        assert!(block(by_number::<String, _, _>("t", 1, None, |n| async move { Err(end(n)) })).is_err(), "without an end code the error is the caller's");
        assert!(text_page(Some(" [] ".into())).is_empty());
    }
}
