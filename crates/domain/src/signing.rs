//! Standard Webhooks v1 signatures, byte for byte.
//!
//! A delivery carries three headers: [`HEADER_ID`] (the event id, stable across retries),
//! [`HEADER_TIMESTAMP`] (unix seconds of this attempt) and [`HEADER_SIGNATURE`]: one
//! `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>` per active secret of the endpoint,
//! space-separated, so a secret can be rotated without downtime.
//!
//! Secrets are written `whsec_` + standard base64; the HMAC key is the decoded bytes.
//! [`SigningSecret`] never prints its key: it has a redacting `Debug` and no `Display` or
//! `Serialize`. [`verify`] compares in constant time and enforces a ±[`TOLERANCE_SECONDS`]
//! window, so receivers (and our own tests) can check what the dispatcher sends.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// Header carrying the message id (`evt_…`), identical on every attempt.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the unix timestamp (seconds) of this attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// Maximum distance in seconds between a signed timestamp and the verifier's clock.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Prefix of the textual form of a signing secret.
const PREFIX: &str = "whsec_";
/// Length of a freshly generated key.
const GENERATED_LEN: usize = 32;
/// Longest accepted key: one SHA-256 block, so the key is used as is (see [`SigningSecret::mac`]).
const MAX_LEN: usize = 64;

/// Standard base64 that accepts input with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// An endpoint's HMAC key (1 to 64 bytes; 32 random bytes when generated here).
///
/// `Debug` prints `SigningSecret(**redacted**)`; the only ways to see the key are
/// [`SigningSecret::as_bytes`] (to encrypt it at rest) and [`SigningSecret::to_whsec`] (to show
/// it once to the customer).
#[derive(Clone)]
pub struct SigningSecret {
    key: Vec<u8>,
}

/// Why a string or byte sequence is not a valid signing secret. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretParseError {
    /// The text does not start with `whsec_`.
    #[error("signing secret must start with `whsec_`")]
    MissingPrefix,
    /// The text after `whsec_` is not standard base64.
    #[error("signing secret is not valid base64")]
    InvalidBase64,
    /// The key is empty.
    #[error("signing secret key is empty")]
    Empty,
    /// The key is longer than 64 bytes.
    #[error("signing secret key is {len} bytes long; at most 64 are allowed")]
    TooLong {
        /// Length of the rejected key in bytes.
        len: usize,
    },
}

impl SigningSecret {
    /// Generates a new secret of 32 bytes from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness: no secret can be minted safely then
    /// (the same choice as RustCrypto's `Generate::generate`).
    #[must_use]
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_LEN];
        if let Err(err) = getrandom::fill(&mut key) {
            panic!("operating system random number generator failed: {err}");
        }
        Self { key }
    }

    /// Parses `whsec_` followed by standard base64 (padded or not) of a 1..=64-byte key.
    ///
    /// # Errors
    ///
    /// A missing prefix, invalid base64, or a key that is empty or longer than 64 bytes.
    pub fn parse(s: &str) -> Result<Self, SecretParseError> {
        let encoded = s
            .strip_prefix(PREFIX)
            .ok_or(SecretParseError::MissingPrefix)?;
        let key = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| SecretParseError::InvalidBase64)?;
        Self::from_bytes(key)
    }

    /// Wraps raw key bytes, e.g. a key decrypted from storage.
    ///
    /// # Errors
    ///
    /// The key is empty or longer than 64 bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretParseError> {
        match bytes.len() {
            0 => Err(SecretParseError::Empty),
            len if len > MAX_LEN => Err(SecretParseError::TooLong { len }),
            _ => Ok(Self { key: bytes }),
        }
    }

    /// The raw key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    /// The textual form: `whsec_` + standard base64 with padding.
    #[must_use]
    pub fn to_whsec(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// A fresh HMAC-SHA256 instance keyed with this secret.
    ///
    /// RFC 2104 pads a key shorter than the hash's block (64 bytes) with zeros, so keying with
    /// the zero-padded block is exactly HMAC with the raw key, and [`KeyInit::new`] on a
    /// full block cannot fail (`new_from_slice` returns a `Result` that would need unwrapping).
    /// The constructors guarantee the key fits in one block.
    ///
    /// [`KeyInit::new`]: hmac::KeyInit::new
    fn mac(&self) -> HmacSha256 {
        let mut block = [0u8; MAX_LEN];
        block[..self.key.len()].copy_from_slice(&self.key);
        HmacSha256::new(&block.into())
    }

    /// The MAC state after absorbing `"{msg_id}.{timestamp}.{body}"`.
    fn mac_for(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        let mut digits = itoa::Buffer::new();
        mac.update(digits.format(timestamp).as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(**redacted**)")
    }
}

/// Why a signed request was rejected by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp header is not an integer number of seconds.
    #[error("webhook timestamp is not a unix timestamp in seconds")]
    InvalidTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECONDS`] in the past.
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is more than [`TOLERANCE_SECONDS`] in the future.
    #[error("webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` signature in the header matches the secret.
    #[error("no matching webhook signature")]
    NoMatchingSignature,
}

/// Signs one message: `v1,` + standard base64 (padded) of
/// HMAC-SHA256(key, `"{msg_id}.{timestamp}.{body}"`).
#[must_use]
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret
        .mac_for(msg_id, timestamp, body)
        .finalize()
        .into_bytes();
    // "v1," + 44 base64 characters, built in one allocation.
    let mut signature = String::with_capacity(SIGNATURE_LEN);
    signature.push_str("v1,");
    STANDARD.encode_string(tag, &mut signature);
    signature
}

/// The length of one `v1,<base64>` signature.
const SIGNATURE_LEN: usize = 3 + 44;

/// The `webhook-signature` header value: one [`sign`] result per secret, space-separated.
#[must_use]
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a SigningSecret>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Verifies a received message as a Standard Webhooks receiver would.
///
/// The timestamp must be within ±[`TOLERANCE_SECONDS`] of `now_unix`. Any whitespace-separated
/// `v1,<base64>` token of `signature_header` matching the expected MAC (compared in constant
/// time) accepts the message; tokens of other versions or with invalid base64 are ignored.
///
/// # Errors
///
/// See [`VerifyError`].
pub fn verify(
    secret: &SigningSecret,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    // Saturating: an absurd timestamp must be rejected, not overflow.
    let age = now_unix.saturating_sub(timestamp);
    if age > TOLERANCE_SECONDS {
        return Err(VerifyError::TimestampTooOld);
    }
    if age < -TOLERANCE_SECONDS {
        return Err(VerifyError::TimestampTooNew);
    }

    let expected = secret.mac_for(msg_id, timestamp, body);
    let matches = signature_header
        .split_whitespace()
        .filter_map(|token| token.strip_prefix("v1,"))
        .filter_map(|encoded| LENIENT_BASE64.decode(encoded).ok())
        .any(|candidate| expected.clone().verify_slice(&candidate).is_ok());
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_1: (&str, &str, i64, &str, &str) = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        r#"{"test": 2432232314}"#,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
    const VECTOR_2: (&str, &str, i64, &str, &str) = (
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        1_649_367_553,
        r#"{"email":"test@example.com","username":"test_user"}"#,
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    );

    fn secret(s: &str) -> SigningSecret {
        SigningSecret::parse(s).expect("valid secret")
    }

    #[test]
    fn signs_the_published_vectors() {
        for (key, id, ts, body, expected) in [VECTOR_1, VECTOR_2] {
            assert_eq!(sign(&secret(key), id, ts, body.as_bytes()), expected);
        }
    }

    #[test]
    fn verifies_the_published_vectors() {
        for (key, id, ts, body, signature) in [VECTOR_1, VECTOR_2] {
            let ts_header = ts.to_string();
            assert_eq!(
                verify(&secret(key), id, &ts_header, signature, body.as_bytes(), ts),
                Ok(())
            );
        }
    }

    #[test]
    fn rejects_tampered_body_and_wrong_key() {
        let (key, id, ts, body, signature) = VECTOR_1;
        let ts_header = ts.to_string();
        let tampered = body.replace('2', "3");
        assert_eq!(
            verify(
                &secret(key),
                id,
                &ts_header,
                signature,
                tampered.as_bytes(),
                ts
            ),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify(
                &secret(VECTOR_2.0),
                id,
                &ts_header,
                signature,
                body.as_bytes(),
                ts
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn enforces_the_timestamp_window() {
        let (key, id, ts, body, signature) = VECTOR_1;
        let key = secret(key);
        let check = |now: i64| verify(&key, id, &ts.to_string(), signature, body.as_bytes(), now);
        assert_eq!(check(ts + 300), Ok(()));
        assert_eq!(check(ts - 300), Ok(()));
        assert_eq!(check(ts + 301), Err(VerifyError::TimestampTooOld));
        assert_eq!(check(ts - 301), Err(VerifyError::TimestampTooNew));
        for bad in ["", "abc", "1614265330.5", "0x10"] {
            assert_eq!(
                verify(&key, id, bad, signature, body.as_bytes(), ts),
                Err(VerifyError::InvalidTimestamp)
            );
        }
        let min = i64::MIN.to_string();
        assert_eq!(
            verify(&key, id, &min, signature, body.as_bytes(), ts),
            Err(VerifyError::TimestampTooOld)
        );
    }

    #[test]
    fn multiple_signatures_rotate_without_downtime() {
        let (id, ts, body) = ("evt_1", 1_700_000_000, b"{}".as_slice());
        let (old, new) = (SigningSecret::generate(), SigningSecret::generate());
        let header = signature_header([&old, &new], id, ts, body);
        assert_eq!(header.split(' ').count(), 2);
        for key in [&old, &new] {
            assert_eq!(verify(key, id, &ts.to_string(), &header, body, ts), Ok(()));
        }
        assert_eq!(
            verify(
                &SigningSecret::generate(),
                id,
                &ts.to_string(),
                &header,
                body,
                ts
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn ignores_garbage_and_other_versions() {
        let (key, id, ts, body, signature) = VECTOR_1;
        let key = secret(key);
        let ts_header = ts.to_string();
        let with_garbage = format!("v1,garbage {signature}");
        assert_eq!(
            verify(&key, id, &ts_header, &with_garbage, body.as_bytes(), ts),
            Ok(())
        );
        let other_version = signature.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify(&key, id, &ts_header, &other_version, body.as_bytes(), ts),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify(&key, id, &ts_header, "", body.as_bytes(), ts),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = secret(VECTOR_1.0);
        let debug = format!("{key:?}");
        assert_eq!(debug, "SigningSecret(**redacted**)");
        assert!(!debug.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    }

    #[test]
    fn parse_round_trips_and_validates() {
        for text in [VECTOR_1.0, VECTOR_2.0] {
            assert_eq!(secret(text).to_whsec(), text);
            assert_eq!(secret(text).as_bytes().len(), 24);
        }
        let generated = SigningSecret::generate();
        let text = generated.to_whsec();
        assert!(text.starts_with("whsec_") && text.ends_with('='));
        assert_eq!(secret(&text).as_bytes(), generated.as_bytes());
        // Unpadded input is accepted too.
        assert_eq!(
            secret(text.trim_end_matches('=')).as_bytes(),
            generated.as_bytes()
        );

        let too_long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        let cases = [
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SecretParseError::MissingPrefix,
            ),
            ("whsec_not base64!", SecretParseError::InvalidBase64),
            ("whsec_", SecretParseError::Empty),
            (too_long.as_str(), SecretParseError::TooLong { len: 65 }),
        ];
        for (input, expected) in cases {
            assert_eq!(SigningSecret::parse(input).map(|_| ()), Err(expected));
        }
        assert!(SigningSecret::from_bytes(vec![1; 64]).is_ok());
        assert_eq!(
            SigningSecret::from_bytes(Vec::new()).map(|_| ()),
            Err(SecretParseError::Empty)
        );
    }

    #[test]
    fn generate_gives_distinct_32_byte_keys() {
        let (a, b) = (SigningSecret::generate(), SigningSecret::generate());
        assert_eq!(a.as_bytes().len(), 32);
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn padded_keying_matches_plain_hmac() {
        // The zero-padded keying in `mac` must equal HMAC over the raw key for every length.
        for len in [1, 32, 63, 64] {
            let key: Vec<u8> = (0..len)
                .map(|i| u8::try_from(i).expect("< 256") ^ 0x5a)
                .collect();
            let ours = SigningSecret::from_bytes(key.clone()).expect("valid length");
            let mut reference = HmacSha256::new_from_slice(&key).expect("any length");
            reference.update(b"id.1.body");
            let expected = format!("v1,{}", STANDARD.encode(reference.finalize().into_bytes()));
            assert_eq!(sign(&ours, "id", 1, b"body"), expected);
        }
    }
}
