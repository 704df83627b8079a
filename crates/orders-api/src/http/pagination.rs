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

#[cfg(test)]
mod tests {
    use domain::ids::OrderId;

    use super::*;

    /// The one field and message of a single-field validation error.
    fn field_error(error: Error) -> (String, String) {
        match error {
            Error::Validation(errors) => {
                let mut errors = errors.into_vec();
                assert_eq!(errors.len(), 1, "{errors:?}");
                let error = errors.remove(0);
                (error.field, error.message)
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn parse_order_id(s: &str) -> Option<OrderId> {
        OrderId::parse(s).ok()
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(limit(Some(1)).ok(), Some(1));
        assert_eq!(limit(Some(DEFAULT_LIMIT)).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(limit(Some(MAX_LIMIT)).ok(), Some(MAX_LIMIT));
        for bad in [0, MAX_LIMIT + 1, u32::MAX] {
            let error = limit(Some(bad)).expect_err("out of bounds");
            assert_eq!(
                field_error(error),
                ("limit".to_owned(), "must be between 1 and 100".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_is_the_last_id_of_a_page_and_decodes_to_it() {
        // Newest first, as pages list them.
        let mut ids: Vec<OrderId> = (0..5).map(|_| OrderId::new()).collect();
        ids.reverse();
        let first = page(ids[..3].to_vec(), 2, OrderId::as_str, |id| id);
        let cursor = first.next_cursor.expect("more pages");
        assert_eq!(cursor, ids[1].as_str());
        let decoded = decode(Some(&cursor), parse_order_id).expect("a cursor this API returned");
        assert_eq!(decoded.as_ref(), Some(&ids[1]));
        // The next page is what sorts below the cursor.
        assert!(ids[2] < ids[1], "{ids:?}");
    }

    #[test]
    fn no_cursor_decodes_to_none_and_a_malformed_one_is_a_field_error() {
        assert_eq!(decode(None, parse_order_id).ok(), Some(None));
        let other_kind = domain::ids::CustomerId::new().to_string();
        let uppercase = OrderId::new().as_str().to_ascii_uppercase();
        for bad in [
            "",
            "garbage",
            "ord_",
            other_kind.as_str(),
            uppercase.as_str(),
        ] {
            let error = decode(Some(bad), parse_order_id).expect_err("malformed cursor");
            assert_eq!(
                field_error(error),
                (
                    "cursor".to_owned(),
                    "is not a cursor this API returned".to_owned()
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lowest_takes_the_tighter_bound() {
        assert_eq!(lowest::<u32>(None, None), None);
        assert_eq!(lowest(Some(3), None), Some(3));
        assert_eq!(lowest(None, Some(4)), Some(4));
        assert_eq!(lowest(Some(3), Some(4)), Some(3));
        assert_eq!(lowest(Some(9), Some(4)), Some(4));
        assert_eq!(lowest(Some(5), Some(5)), Some(5));
    }

    #[test]
    fn page_has_a_cursor_only_when_more_rows_were_fetched() {
        let rows = |n: usize| -> Vec<String> { (0..n).map(|i| format!("id{i}")).collect() };
        let view = |row: String| row.to_uppercase();

        // limit + 1 rows: the extra one is dropped and the last kept row is the cursor.
        let more = page(rows(4), 3, String::as_str, view);
        assert_eq!(more.data, ["ID0", "ID1", "ID2"]);
        assert_eq!(more.next_cursor.as_deref(), Some("id2"));

        // Exactly `limit` rows, fewer, or none: the last page.
        for n in [3, 1, 0] {
            let last = page(rows(n), 3, String::as_str, view);
            assert_eq!(last.data.len(), n);
            assert_eq!(last.next_cursor, None, "{n} rows");
        }

        let json =
            serde_json::to_value(page(rows(2), 1, String::as_str, view)).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({ "data": ["ID0"], "next_cursor": "id0" })
        );
        let json =
            serde_json::to_value(page(rows(0), 1, String::as_str, view)).expect("serializes");
        assert_eq!(json, serde_json::json!({ "data": [], "next_cursor": null }));
    }
}
