//! `?limit=&offset=` on the ticket lists (a unit's tickets, the operator queue): the list stays a
//! JSON array, its full length is in `X-Total-Count`, so a page of a list of a million tickets
//! reads only that page.

use axum::extract::RawQuery;
use axum::http::{HeaderName, HeaderValue, StatusCode};

use super::error::ApiError;
use crate::store::PageRequest;

/// Tickets in a page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page one request may ask for.
pub const MAX_LIMIT: usize = 1000;

pub const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

fn bad_paging(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_paging", message)
}

/// Reads `limit` and `offset` from the query string (other parameters are left to the handler).
pub fn page_of(query: &RawQuery) -> Result<PageRequest, ApiError> {
    let mut page = PageRequest {
        offset: 0,
        limit: DEFAULT_LIMIT,
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
            _ => {}
        }
    }
    Ok(page)
}

/// The `X-Total-Count` header for a list of `total` entries.
pub fn total_header(total: u64) -> [(HeaderName, HeaderValue); 1] {
    [(TOTAL_COUNT, HeaderValue::from(total))]
}
