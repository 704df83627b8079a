//! Cursor pagination: `{"data": [...], "next_cursor": "…" | null}`.
//!
//! Items are ordered by id, newest first; ids are time-ordered, so a cursor is the last id of a
//! page, and items inserted between pages can never shift one into a page already seen.
//! Clients treat cursors as opaque.

use serde::Serialize;

use super::error::Error;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size.
pub const MAX_LIMIT: u32 = 100;

/// A page of items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Checks a requested page size.
pub fn limit(requested: Option<u32>) -> Result<u32, Error> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(_) => Err(Error::field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Parses a cursor: the last id of the previous page (opaque to clients).
pub fn decode<Id>(
    cursor: Option<&str>,
    parse: impl Fn(&str) -> Option<Id>,
) -> Result<Option<Id>, Error> {
    cursor
        .map(|cursor| {
            parse(cursor).ok_or_else(|| Error::field("cursor", "is not a cursor this API returned"))
        })
        .transpose()
}

/// The tighter of two upper bounds (a `created_before` time and a cursor).
pub fn lowest<Id: Ord>(a: Option<Id>, b: Option<Id>) -> Option<Id> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Builds a page from `limit + 1` fetched items: the extra one only tells that more exist.
pub fn page<I, T>(
    mut items: Vec<I>,
    limit: u32,
    id: impl Fn(&I) -> &str,
    view: impl Fn(I) -> T,
) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|last| id(last).to_owned()))
        .flatten();
    Page {
        data: items.into_iter().map(view).collect(),
        next_cursor,
    }
}
