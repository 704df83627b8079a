//! Signing secrets encrypted at rest: the AEAD envelope shared by the API and the dispatcher.
//!
//! The API seals an endpoint's signing key before writing it and the dispatcher opens it at
//! send time; both use this module, so they agree on the format by construction.
//!
//! Envelope bytes (XChaCha20-Poly1305):
//!
//! ```text
//! [version = 1][key id: 4 bytes][nonce: 24 random bytes][ciphertext + 16-byte tag]
//! ```
//!
//! The key id is the first 4 bytes of SHA-256 of the master key, so a stored envelope names the
//! key that sealed it and a [`SecretKeyring`] can keep opening old envelopes after the master key
//! is rotated. The associated data is the owner id (the webhook endpoint id, `ep_…`): an envelope
//! copied to another endpoint's row fails to open.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest as _, Sha256};

/// A fixed master key for local development and tests only — NEVER use it in production.
///
/// It is the standard base64 of `b"mechanica-dev-only-secrets-key!!"` (32 bytes): public, so
/// anything sealed with it is effectively plaintext.
pub const DEV_SECRETS_KEY_BASE64: &str = "bWVjaGFuaWNhLWRldi1vbmx5LXNlY3JldHMta2V5ISE=";

/// Current envelope format version.
const VERSION: u8 = 1;
/// Length of a key id.
const KEY_ID_LEN: usize = 4;
/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag.
const TAG_LEN: usize = 16;

/// A 32-byte master key for sealing signing secrets. `Debug` shows only its key id.
#[derive(Clone)]
pub struct SecretsKey {
    bytes: [u8; 32],
    id: [u8; KEY_ID_LEN],
}

/// Why a master key could not be read or an envelope could not be sealed or opened.
///
/// Messages never contain key or plaintext bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// The master key is not standard base64 of exactly 32 bytes.
    #[error("secrets key must be standard base64 of exactly 32 bytes")]
    InvalidKey,
    /// The envelope has a format version this code does not know.
    #[error("unsupported secret envelope version {0}")]
    UnsupportedVersion(u8),
    /// The envelope is shorter than its header and tag.
    #[error("secret envelope is truncated")]
    Truncated,
    /// The envelope was sealed with a master key that is not in the keyring.
    #[error("secret envelope was sealed with an unknown key")]
    UnknownKey,
    /// Authentication failed: wrong owner id, tampered bytes, or a key id collision.
    #[error("secret envelope failed to decrypt")]
    Decryption,
    /// Sealing failed: the operating system's random number generator or the cipher
    /// reported an error. Not expected in practice.
    #[error("failed to seal secret")]
    Seal,
}

impl SecretsKey {
    /// Reads a key from standard base64 of exactly 32 bytes, ignoring surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`SecretBoxError::InvalidKey`] for invalid base64 or a length other than 32 bytes.
    pub fn from_base64(s: &str) -> Result<Self, SecretBoxError> {
        let decoded = STANDARD
            .decode(s.trim())
            .map_err(|_| SecretBoxError::InvalidKey)?;
        let bytes =
            <[u8; 32]>::try_from(decoded.as_slice()).map_err(|_| SecretBoxError::InvalidKey)?;
        Ok(Self::from_bytes(bytes))
    }

    /// Wraps raw key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self { bytes, id }
    }

    /// The first 4 bytes of SHA-256 of the key; written into every envelope it seals.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.bytes.into())
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.id;
        f.debug_struct("SecretsKey")
            .field("key_id", &format_args!("{a:02x}{b:02x}{c:02x}{d:02x}"))
            .finish_non_exhaustive()
    }
}

/// The master keys of a deployment: a primary that seals, plus older keys that can still open.
#[derive(Debug, Clone)]
pub struct SecretKeyring {
    primary: SecretsKey,
    previous: Vec<SecretsKey>,
}

impl SecretKeyring {
    /// A keyring that seals and opens with `primary` only.
    #[must_use]
    pub fn new(primary: SecretsKey) -> Self {
        Self {
            primary,
            previous: Vec::new(),
        }
    }

    /// Adds a retired key that can still open envelopes it sealed.
    #[must_use]
    pub fn with_previous(mut self, key: SecretsKey) -> Self {
        self.previous.push(key);
        self
    }

    /// Seals `plaintext` for `owner_id` with the primary key and a fresh random nonce.
    ///
    /// # Errors
    ///
    /// [`SecretBoxError::Seal`] if the random number generator or the cipher fails, which only
    /// a broken platform or a bug can cause.
    pub fn seal(&self, owner_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SecretBoxError::Seal)?;
        let payload = Payload {
            msg: plaintext,
            aad: owner_id.as_bytes(),
        };
        let ciphertext = self
            .primary
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| SecretBoxError::Seal)?;

        let mut envelope = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        envelope.push(VERSION);
        envelope.extend_from_slice(&self.primary.id);
        envelope.extend_from_slice(&nonce);
        envelope.extend_from_slice(&ciphertext);
        Ok(envelope)
    }

    /// Opens an envelope sealed for `owner_id` by any key of this keyring.
    ///
    /// # Errors
    ///
    /// See [`SecretBoxError`]: unknown version, truncated input, unknown key id, or failed
    /// authentication (wrong owner id or tampered bytes).
    pub fn open(&self, owner_id: &str, envelope: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let (&version, rest) = envelope.split_first().ok_or(SecretBoxError::Truncated)?;
        if version != VERSION {
            return Err(SecretBoxError::UnsupportedVersion(version));
        }
        let (key_id, rest) = rest
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(SecretBoxError::Truncated)?;
        let (nonce, ciphertext) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SecretBoxError::Truncated)?;
        if ciphertext.len() < TAG_LEN {
            return Err(SecretBoxError::Truncated);
        }
        let key = std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|key| key.id == *key_id)
            .ok_or(SecretBoxError::UnknownKey)?;
        let payload = Payload {
            msg: ciphertext,
            aad: owner_id.as_bytes(),
        };
        key.cipher()
            .decrypt(&XNonce::from(*nonce), payload)
            .map_err(|_| SecretBoxError::Decryption)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "ep_01jabcdefghjkmnpqrstvwxyz0";
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keyring(fill: u8) -> SecretKeyring {
        SecretKeyring::new(SecretsKey::from_bytes([fill; 32]))
    }

    #[test]
    fn round_trips_with_the_documented_layout() {
        let ring = keyring(1);
        let envelope = ring.seal(OWNER, SECRET).expect("seal");
        assert_eq!(envelope.len(), 1 + 4 + 24 + SECRET.len() + 16);
        assert_eq!(envelope[0], 1);
        assert_eq!(envelope[1..5], SecretsKey::from_bytes([1; 32]).key_id());
        assert_eq!(ring.open(OWNER, &envelope).expect("open"), SECRET);
        // An empty plaintext is fine too.
        let empty = ring.seal(OWNER, b"").expect("seal");
        assert_eq!(ring.open(OWNER, &empty).expect("open"), b"");
    }

    #[test]
    fn wrong_owner_fails() {
        let ring = keyring(1);
        let envelope = ring.seal(OWNER, SECRET).expect("seal");
        assert_eq!(
            ring.open("ep_someone_else", &envelope),
            Err(SecretBoxError::Decryption)
        );
    }

    #[test]
    fn any_flipped_byte_fails() {
        let ring = keyring(1);
        let envelope = ring.seal(OWNER, SECRET).expect("seal");
        for i in 0..envelope.len() {
            let mut tampered = envelope.clone();
            tampered[i] ^= 0x01;
            let expected = match i {
                0 => SecretBoxError::UnsupportedVersion(0),
                1..=4 => SecretBoxError::UnknownKey,
                _ => SecretBoxError::Decryption,
            };
            assert_eq!(ring.open(OWNER, &tampered), Err(expected), "byte {i}");
        }
    }

    #[test]
    fn unknown_key_fails() {
        let envelope = keyring(1).seal(OWNER, SECRET).expect("seal");
        assert_eq!(
            keyring(2).open(OWNER, &envelope),
            Err(SecretBoxError::UnknownKey)
        );
    }

    #[test]
    fn previous_key_opens_old_envelopes() {
        let old = SecretsKey::from_bytes([1; 32]);
        let new = SecretsKey::from_bytes([2; 32]);
        let sealed_by_old = SecretKeyring::new(old.clone())
            .seal(OWNER, SECRET)
            .expect("seal");
        let rotated = SecretKeyring::new(new.clone()).with_previous(old);
        assert_eq!(rotated.open(OWNER, &sealed_by_old).expect("open"), SECRET);
        // New envelopes are sealed with the new primary.
        let sealed_now = rotated.seal(OWNER, SECRET).expect("seal");
        assert_eq!(sealed_now[1..5], new.key_id());
        assert_eq!(
            SecretKeyring::new(new)
                .open(OWNER, &sealed_now)
                .expect("open"),
            SECRET
        );
    }

    #[test]
    fn truncated_input_errors() {
        let ring = keyring(1);
        let envelope = ring.seal(OWNER, SECRET).expect("seal");
        for len in [0, 1, 5, 29, 29 + 15] {
            assert_eq!(
                ring.open(OWNER, &envelope[..len]),
                Err(SecretBoxError::Truncated),
                "length {len}"
            );
        }
        // Long enough to parse, but the tag no longer matches.
        assert_eq!(
            ring.open(OWNER, &envelope[..envelope.len() - 1]),
            Err(SecretBoxError::Decryption)
        );
        assert_eq!(
            ring.open(OWNER, &[2]),
            Err(SecretBoxError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn from_base64_requires_exactly_32_bytes() {
        assert!(SecretsKey::from_base64(&STANDARD.encode([0u8; 32])).is_ok());
        assert!(SecretsKey::from_base64(&format!("  {}\n", STANDARD.encode([0u8; 32]))).is_ok());
        for bad in [
            STANDARD.encode([0u8; 31]),
            STANDARD.encode([0u8; 33]),
            String::new(),
            "not base64!".to_owned(),
        ] {
            assert_eq!(
                SecretsKey::from_base64(&bad).map(|_| ()),
                Err(SecretBoxError::InvalidKey)
            );
        }
    }

    #[test]
    fn dev_key_is_the_documented_bytes() {
        let dev = SecretsKey::from_base64(DEV_SECRETS_KEY_BASE64).expect("valid dev key");
        let expected = SecretsKey::from_bytes(*b"mechanica-dev-only-secrets-key!!");
        assert_eq!(dev.key_id(), expected.key_id());
    }

    #[test]
    fn seals_are_randomised() {
        let ring = keyring(1);
        let a = ring.seal(OWNER, SECRET).expect("seal");
        let b = ring.seal(OWNER, SECRET).expect("seal");
        assert_ne!(a, b);
        assert_ne!(a[5..29], b[5..29]);
    }

    #[test]
    fn debug_shows_only_the_key_id() {
        let key = SecretsKey::from_bytes(*b"mechanica-dev-only-secrets-key!!");
        let [a, b, c, d] = key.key_id();
        let expected = format!("SecretsKey {{ key_id: {a:02x}{b:02x}{c:02x}{d:02x}, .. }}");
        assert_eq!(format!("{key:?}"), expected);
        let ring = SecretKeyring::new(key.clone()).with_previous(key);
        assert!(!format!("{ring:?}").contains("mechanica"));
    }
}
