//! `?limit=&after=` (or `?limit=&offset=`) on the ticket lists (a unit's tickets, the operator
//! queue): the list stays a JSON array, its full length is in `X-Total-Count`, and when more
//! follow, the next page's cursor is in `X-Next-Cursor` and a `Link: <…>; rel="next"` header. A
//! page after a cursor is one index seek whatever its depth; an offset walks the index from the
//! nearer end of the list (kept for clients written before the cursor).

use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use super::error::ApiError;
use crate::store::{ListCursor, PageRequest, TicketPage};

/// Tickets in a page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page one request may ask for.
pub const MAX_LIMIT: usize = 1000;

pub const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

fn bad_paging(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_paging", message)
}

/// Reads `limit` and `offset` from the query string (other parameters are left to the handler).
pub fn page_of(query: &RawQuery) -> Result<PageRequest, ApiError> {
    let mut page = PageRequest {
        offset: 0,
        limit: DEFAULT_LIMIT,
        after: None,
    };
    let Some(raw) = &query.0 else {
        return Ok(page);
    };
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let number = || {
            value.parse::<usize>().map_err(|_| {
                bad_paging(format!(
                    "`{key}` must be a whole number (e.g. ?limit=100&offset=200), not `{value}`"
                ))
            })
        };
        match key.as_ref() {
            "limit" => {
                let limit = number()?;
                if limit == 0 || limit > MAX_LIMIT {
                    return Err(bad_paging(format!(
                        "`limit` must be between 1 and {MAX_LIMIT}, not {limit}"
                    )));
                }
                page.limit = limit;
            }
            "offset" => page.offset = number()?,
            "after" => {
                page.after = Some(ListCursor::parse(&value).ok_or_else(|| {
                    bad_paging(format!(
                        "`after` must be the cursor a previous page gave in X-Next-Cursor (48 hex digits), not `{value}`"
                    ))
                })?);
            }
            _ => {}
        }
    }
    if page.after.is_some() && page.offset > 0 {
        return Err(bad_paging(
            "use `after` or `offset`, not both: `after` already says where the page starts".into(),
        ));
    }
    Ok(page)
}

/// The headers of a page of the list at `path`: `X-Total-Count`, and when more follow,
/// `X-Next-Cursor` and `Link: <path?limit=…&after=…>; rel="next"`.
pub fn page_headers(path: &str, request: &PageRequest, page: &TicketPage) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(TOTAL_COUNT, HeaderValue::from(page.total));
    if let Some(next) = page.next {
        let token = next.token();
        let link = format!(
            "<{path}?limit={}&after={token}>; rel=\"next\"",
            request.limit
        );
        if let (Ok(token), Ok(link)) = (HeaderValue::from_str(&token), HeaderValue::from_str(&link))
        {
            headers.insert(NEXT_CURSOR, token);
            headers.insert(header::LINK, link);
        }
    }
    headers
}
