//! Custom headers an endpoint sends with every attempt (a receiver's API key, a routing tag).
//!
//! Names are HTTP tokens of at most 64 characters, kept in lowercase (HTTP compares them without
//! case), and never one the platform sets or one that governs the connection: `host`,
//! `content-length`, `content-type`, `user-agent`, any `webhook-*`, and the hop-by-hop headers.
//! Values are 1–1024 visible ASCII characters, spaces allowed inside. An endpoint has at most
//! 20. Values often carry credentials, so they are sealed at rest (the endpoint's
//! [`sealing_owner`] as associated data) and only ever shown [`mask`]ed.

use std::collections::BTreeMap;

use crate::ids::EndpointId;
use crate::secret_box::{SecretBoxError, SecretKeyring};
use crate::validation::{self, FieldErrors};

/// An endpoint's custom headers: lowercase names to values.
pub type CustomHeaders = BTreeMap<String, String>;

/// Changes to custom headers: a name to set to a value, or to remove (`None`).
pub type HeadersPatch = BTreeMap<String, Option<String>>;

/// The most custom headers an endpoint has.
pub const MAX_CUSTOM_HEADERS: usize = 20;

/// The longest name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// The longest value, in characters.
pub const MAX_VALUE_LEN: usize = 1024;

/// Names a custom header may not have (lowercase), besides any starting with
/// [`RESERVED_PREFIX`]: the ones every attempt sets, and the hop-by-hop ones.
pub const RESERVED_NAMES: [&str; 13] = [
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The prefix of the Standard Webhooks headers, which the signature covers.
pub const RESERVED_PREFIX: &str = "webhook-";

/// Whether `c` may appear in an HTTP token (RFC 9110 `tchar`).
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Checks a header name, adding what is wrong to `errors` under `field`; returns it in
/// lowercase.
pub fn name(field: &str, raw: &str, errors: &mut FieldErrors) -> String {
    let lower = raw.to_ascii_lowercase();
    if raw.is_empty() {
        errors.add(field, "every header needs a name");
        return lower;
    }
    let path = validation::join(field, raw);
    if raw.chars().count() > MAX_NAME_LEN || !raw.chars().all(is_tchar) {
        errors.add(
            path,
            format!("names must be HTTP tokens of 1 to {MAX_NAME_LEN} characters"),
        );
    } else if RESERVED_NAMES.contains(&lower.as_str()) || lower.starts_with(RESERVED_PREFIX) {
        errors.add(
            path,
            "is set by every attempt or governs the connection, so it cannot be a custom header",
        );
    }
    lower
}

/// Checks a header value, adding what is wrong to `errors` under `field.name`.
pub fn value(field: &str, name: &str, value: &str, errors: &mut FieldErrors) {
    let visible = |c: char| c.is_ascii_graphic();
    let valid = !value.is_empty()
        && value.len() <= MAX_VALUE_LEN
        && value.chars().all(|c| visible(c) || c == ' ')
        && value.starts_with(visible)
        && value.ends_with(visible);
    if !valid {
        errors.add(
            validation::join(field, name),
            format!(
                "values must be 1 to {MAX_VALUE_LEN} visible ASCII characters, spaces allowed \
                 inside"
            ),
        );
    }
}

/// Checks the custom headers of a new endpoint; returns them with lowercase names.
pub fn parse(
    field: &str,
    raw: BTreeMap<String, String>,
    errors: &mut FieldErrors,
) -> CustomHeaders {
    let set = raw.into_iter().map(|(name, value)| (name, Some(value)));
    let mut headers = CustomHeaders::new();
    merge(
        field,
        &mut headers,
        names_and_values(field, set, errors),
        errors,
    );
    headers
}

/// Checks changes to custom headers (at most [`MAX_CUSTOM_HEADERS`] at once); returns them with
/// lowercase names.
pub fn parse_patch(field: &str, raw: HeadersPatch, errors: &mut FieldErrors) -> HeadersPatch {
    if raw.len() > MAX_CUSTOM_HEADERS {
        errors.add(
            field,
            format!("a change names at most {MAX_CUSTOM_HEADERS} headers"),
        );
    }
    names_and_values(field, raw, errors)
}

/// Checks each name and each value given, and that no name is given twice; the names in
/// lowercase.
fn names_and_values(
    field: &str,
    raw: impl IntoIterator<Item = (String, Option<String>)>,
    errors: &mut FieldErrors,
) -> HeadersPatch {
    let mut parsed = HeadersPatch::new();
    for (raw_name, raw_value) in raw {
        let name = name(field, &raw_name, errors);
        if let Some(raw_value) = &raw_value {
            value(field, &raw_name, raw_value, errors);
        }
        if parsed.insert(name, raw_value).is_some() {
            errors.add(
                validation::join(field, &raw_name),
                "is given twice (names are not case-sensitive)",
            );
        }
    }
    parsed
}

/// Applies checked changes to `headers`; adds an error when more than
/// [`MAX_CUSTOM_HEADERS`] would remain.
pub fn merge(
    field: &str,
    headers: &mut CustomHeaders,
    patch: HeadersPatch,
    errors: &mut FieldErrors,
) {
    for (name, value) in patch {
        match value {
            Some(value) => headers.insert(name, value),
            None => headers.remove(&name),
        };
    }
    count(field, headers, errors);
}

fn count(field: &str, headers: &CustomHeaders, errors: &mut FieldErrors) {
    if headers.len() > MAX_CUSTOM_HEADERS {
        errors.add(
            field,
            format!("an endpoint has at most {MAX_CUSTOM_HEADERS} custom headers"),
        );
    }
}

/// A value as it is shown once stored: its last four characters when it has 16 or more (enough
/// to tell two keys apart), nothing of it otherwise.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    match chars.len() {
        n if n >= 16 => format!("****{}", chars[n - 4..].iter().collect::<String>()),
        _ => "****".to_owned(),
    }
}

/// The associated data under which an endpoint's headers are sealed: not the endpoint id
/// alone, under which its signing secrets are, so that neither envelope opens as the other.
pub fn sealing_owner(endpoint: &EndpointId) -> String {
    format!("{endpoint}/headers")
}

/// Stored custom headers could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealedHeadersError {
    /// The envelope did not open (see [`SecretBoxError`]).
    #[error(transparent)]
    Envelope(#[from] SecretBoxError),
    /// It opened to something that is not a JSON object of strings.
    #[error("sealed headers are not a JSON object of strings: {0}")]
    Json(#[from] serde_json::Error),
}

/// Seals `headers` of `endpoint` for storage; `None` when there are none.
///
/// # Errors
///
/// [`SecretBoxError::Seal`]: only a broken platform causes it.
pub fn seal(
    keyring: &SecretKeyring,
    endpoint: &EndpointId,
    headers: &CustomHeaders,
) -> Result<Option<Vec<u8>>, SecretBoxError> {
    if headers.is_empty() {
        return Ok(None);
    }
    // A map of strings always serializes.
    let json = serde_json::to_vec(headers).unwrap_or_default();
    keyring.seal(&sealing_owner(endpoint), &json).map(Some)
}

/// Opens the stored headers of `endpoint` (`None`: it has none).
///
/// # Errors
///
/// See [`SealedHeadersError`].
pub fn open(
    keyring: &SecretKeyring,
    endpoint: &EndpointId,
    sealed: Option<&[u8]>,
) -> Result<CustomHeaders, SealedHeadersError> {
    let Some(sealed) = sealed else {
        return Ok(CustomHeaders::new());
    };
    let json = keyring.open(&sealing_owner(endpoint), sealed)?;
    Ok(serde_json::from_slice(&json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(pairs: &[(&str, &str)]) -> (CustomHeaders, FieldErrors) {
        let mut errors = FieldErrors::new();
        let raw = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        (parse("headers", raw, &mut errors), errors)
    }

    #[test]
    fn names_are_tokens_kept_in_lowercase() {
        let (headers, errors) = parsed(&[("X-Api-Key", "k"), ("x_tenant.id", "acme corp")]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            headers.keys().collect::<Vec<_>>(),
            ["x-api-key", "x_tenant.id"]
        );
        for bad in ["", "x api", "x:y", "ä", &"x".repeat(65)] {
            assert!(!parsed(&[(bad, "v")]).1.is_empty(), "{bad:?} accepted");
        }
    }

    #[test]
    fn reserved_names_are_refused_whatever_their_case() {
        for reserved in [
            "Host",
            "content-length",
            "Content-Type",
            "USER-AGENT",
            "Webhook-Signature",
            "webhook-anything",
            "Connection",
            "Transfer-Encoding",
            "TE",
            "Upgrade",
        ] {
            assert!(
                !parsed(&[(reserved, "v")]).1.is_empty(),
                "{reserved} accepted"
            );
        }
        assert!(parsed(&[("x-webhook-tag", "v")]).1.is_empty());
    }

    #[test]
    fn values_are_visible_ascii_without_edge_spaces() {
        assert!(parsed(&[("x-a", "Bearer abc.def")]).1.is_empty());
        assert!(parsed(&[("x-a", &"v".repeat(MAX_VALUE_LEN))]).1.is_empty());
        for bad in [
            "",
            " lead",
            "trail ",
            "new\nline",
            "cr\rlf",
            "tab\there",
            "é",
            &"v".repeat(MAX_VALUE_LEN + 1),
        ] {
            assert!(!parsed(&[("x-a", bad)]).1.is_empty(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_differing_only_in_case_are_one_name() {
        let (_, errors) = parsed(&[("X-A", "1"), ("x-a", "2")]);
        assert!(!errors.is_empty());
    }

    #[test]
    fn a_patch_sets_and_removes_and_keeps_the_limit() {
        let mut headers: CustomHeaders = [("x-a".to_owned(), "1".to_owned())].into();
        let mut errors = FieldErrors::new();
        let patch = parse_patch(
            "headers",
            [
                ("X-A".to_owned(), None),
                ("X-B".to_owned(), Some("2".to_owned())),
            ]
            .into(),
            &mut errors,
        );
        merge("headers", &mut headers, patch, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(headers, CustomHeaders::from([("x-b".into(), "2".into())]));

        let many = (0..MAX_CUSTOM_HEADERS)
            .map(|n| (format!("x-{n}"), Some("v".to_owned())))
            .collect();
        let patch = parse_patch("headers", many, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        merge("headers", &mut headers, patch, &mut errors);
        assert!(!errors.is_empty(), "21 headers accepted");

        let removals = (0..=MAX_CUSTOM_HEADERS)
            .map(|n| (format!("x-{n}"), None))
            .collect();
        let mut errors = FieldErrors::new();
        parse_patch("headers", removals, &mut errors);
        assert!(!errors.is_empty(), "a change naming 21 headers accepted");
    }

    #[test]
    fn masking_shows_at_most_the_last_four_characters_of_a_long_value() {
        assert_eq!(mask("short-secret"), "****");
        assert_eq!(mask("sk_live_0123456789abcd"), "****abcd");
    }

    #[test]
    fn headers_round_trip_sealed_and_open_only_as_their_endpoints_headers() {
        let keyring = SecretKeyring::new(crate::secret_box::SecretsKey::from_bytes([7; 32]));
        let endpoint = EndpointId::new();
        let headers: CustomHeaders = [("x-api-key".into(), "k-123".into())].into();
        let sealed = seal(&keyring, &endpoint, &headers)
            .expect("sealed")
            .expect("some headers");
        assert!(!sealed.windows(5).any(|w| w == b"k-123"), "sealed in clear");
        assert_eq!(
            open(&keyring, &endpoint, Some(&sealed)).expect("opens"),
            headers
        );
        // Neither another endpoint's nor a signing secret's envelope (the endpoint id alone).
        assert!(open(&keyring, &EndpointId::new(), Some(&sealed)).is_err());
        assert!(keyring.open(endpoint.as_str(), &sealed).is_err());
        assert_eq!(
            seal(&keyring, &endpoint, &CustomHeaders::new()).ok(),
            Some(None)
        );
        assert_eq!(
            open(&keyring, &endpoint, None).ok(),
            Some(CustomHeaders::new())
        );
    }
}
