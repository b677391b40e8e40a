//! The hashes a bill can be announced with, and the running hash a
//! download is checked with.

use std::fmt;
use std::str::FromStr;

use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use sm3::Sm3;

/// The hash a [`BillInfo`](super::BillInfo) announces in its `hash_type`:
/// what [`Client::download_bill`](crate::Client::download_bill) computes
/// over the decompressed bill and compares with `hash_value`.
///
/// Trade and fund-flow bills announce `SHA1`; merchant-transfer and
/// electronic receipts announce `SHA256`; some bills announce `SM3`, the
/// Chinese national hash (GB/T 32905). Any other `hash_type` is refused
/// before the download is sent
/// ([`DownloadError::UnsupportedHashType`](super::DownloadError::UnsupportedHashType)).
///
/// ```
/// use wxpay_core::bill::BillHashType;
///
/// assert_eq!("sm3".parse::<BillHashType>(), Ok(BillHashType::Sm3));
/// assert_eq!(BillHashType::from_announced(" SHA256 "), Some(BillHashType::Sha256));
/// assert_eq!(BillHashType::from_announced("MD5"), None);
/// assert_eq!(BillHashType::Sha1.to_string(), "SHA1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BillHashType {
    /// `SHA1`: SHA-1, 40 hex digits.
    Sha1,
    /// `SHA256`: SHA-256, 64 hex digits.
    Sha256,
    /// `SM3`: SM3 (GB/T 32905-2016), 64 hex digits.
    Sm3,
}

impl BillHashType {
    /// Every supported hash type, in the order error messages list them.
    pub const SUPPORTED: &'static [BillHashType] =
        &[BillHashType::Sha1, BillHashType::Sha256, BillHashType::Sm3];

    /// The hash type named by an announced `hash_type`: `SHA1`, `SHA256`
    /// or `SM3`, in any letter case, with or without a hyphen (`SHA-256`),
    /// surrounding whitespace ignored. `None` for any other name.
    pub fn from_announced(hash_type: &str) -> Option<BillHashType> {
        let name = hash_type.trim();
        BillHashType::SUPPORTED.iter().copied().find(|known| {
            name.eq_ignore_ascii_case(known.as_str())
                || name.eq_ignore_ascii_case(known.hyphenated())
        })
    }

    /// The name WeChat Pay announces it with: `SHA1`, `SHA256`, `SM3`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            BillHashType::Sha1 => "SHA1",
            BillHashType::Sha256 => "SHA256",
            BillHashType::Sm3 => "SM3",
        }
    }

    /// The length of its hex digest: 40 for SHA-1, 64 for SHA-256 and SM3.
    pub const fn hex_len(&self) -> usize {
        match self {
            BillHashType::Sha1 => 40,
            BillHashType::Sha256 | BillHashType::Sm3 => 64,
        }
    }

    /// The name with a hyphen, as some tools write it (SM3 has none).
    const fn hyphenated(&self) -> &'static str {
        match self {
            BillHashType::Sha1 => "SHA-1",
            BillHashType::Sha256 => "SHA-256",
            BillHashType::Sm3 => "SM3",
        }
    }

    /// `SHA1, SHA256, SM3`: the supported names, for error messages.
    pub(crate) fn supported_list() -> String {
        BillHashType::SUPPORTED
            .iter()
            .map(BillHashType::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The lower-case hex digest of `data` (the whole bill at once).
    pub fn hex_digest(&self, data: &[u8]) -> String {
        let mut hasher = RunningHash::new(*self);
        hasher.update(data);
        hasher.finish().hex
    }
}

impl fmt::Display for BillHashType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `hash_type` that is not one of [`BillHashType::SUPPORTED`]: what
/// parsing a [`BillHashType`] fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown bill hash type `{hash_type}`: the supported ones are {}",
    BillHashType::supported_list()
)]
pub struct UnknownHashType {
    /// The name that was given.
    pub hash_type: String,
}

impl FromStr for BillHashType {
    type Err = UnknownHashType;

    fn from_str(hash_type: &str) -> Result<Self, Self::Err> {
        BillHashType::from_announced(hash_type).ok_or_else(|| UnknownHashType {
            hash_type: hash_type.to_owned(),
        })
    }
}

/// The digest a downloaded bill was checked with: its hash type and the
/// lower-case hex digest of the decompressed bill (which matched the
/// announced `hash_value`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillDigest {
    hash_type: BillHashType,
    hex: String,
}

impl BillDigest {
    /// The hash type it was computed with.
    pub fn hash_type(&self) -> BillHashType {
        self.hash_type
    }

    /// The lower-case hex digest.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Whether it is the announced `hash_value` (hex, in any letter case,
    /// surrounding whitespace ignored).
    pub fn matches(&self, hash_value: &str) -> bool {
        hash_value.trim().eq_ignore_ascii_case(&self.hex)
    }
}

impl fmt::Display for BillDigest {
    /// `SM3:66c7f0…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.hash_type, self.hex)
    }
}

/// A hash fed incrementally, of the type a bill was announced with.
#[derive(Clone)]
pub(crate) enum RunningHash {
    Sha1(Sha1),
    Sha256(Sha256),
    Sm3(Sm3),
}

impl RunningHash {
    pub(crate) fn new(hash_type: BillHashType) -> Self {
        match hash_type {
            BillHashType::Sha1 => RunningHash::Sha1(Sha1::new()),
            BillHashType::Sha256 => RunningHash::Sha256(Sha256::new()),
            BillHashType::Sm3 => RunningHash::Sm3(Sm3::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            RunningHash::Sha1(hasher) => hasher.update(data),
            RunningHash::Sha256(hasher) => hasher.update(data),
            RunningHash::Sm3(hasher) => hasher.update(data),
        }
    }

    pub(crate) fn finish(self) -> BillDigest {
        let (hash_type, hex) = match self {
            RunningHash::Sha1(hasher) => (BillHashType::Sha1, hex::encode(hasher.finalize())),
            RunningHash::Sha256(hasher) => (BillHashType::Sha256, hex::encode(hasher.finalize())),
            RunningHash::Sm3(hasher) => (BillHashType::Sm3, hex::encode(hasher.finalize())),
        };
        BillDigest { hash_type, hex }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_unknown_ones_are_refused() {
        for (name, expected) in [
            ("SHA1", BillHashType::Sha1),
            ("sha1", BillHashType::Sha1),
            ("Sha-1", BillHashType::Sha1),
            ("SHA256", BillHashType::Sha256),
            (" sha256\n", BillHashType::Sha256),
            ("SHA-256", BillHashType::Sha256),
            ("SM3", BillHashType::Sm3),
            ("sm3", BillHashType::Sm3),
        ] {
            assert_eq!(name.parse::<BillHashType>(), Ok(expected), "{name:?}");
        }
        for name in ["", "MD5", "SHA", "SHA512", "SHA2", "SM2", "SHA1 SHA256"] {
            let error = name.parse::<BillHashType>().unwrap_err();
            assert_eq!(error.hash_type, name);
            assert!(
                error
                    .to_string()
                    .ends_with("supported ones are SHA1, SHA256, SM3"),
                "{error}"
            );
        }
    }

    /// Known answers: FIPS 180 for SHA-1 and SHA-256, GB/T 32905-2016
    /// appendix A for SM3.
    #[test]
    fn known_answers_for_abc() {
        assert_eq!(
            BillHashType::Sha1.hex_digest(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            BillHashType::Sha256.hex_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            BillHashType::Sm3.hex_digest(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // GB/T 32905-2016 A.2: "abcd" sixteen times (512 bits).
        assert_eq!(
            BillHashType::Sm3.hex_digest(&b"abcd".repeat(16)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        for &hash_type in BillHashType::SUPPORTED {
            assert_eq!(hash_type.hex_digest(b"").len(), hash_type.hex_len());
        }
    }

    #[test]
    fn running_hashes_do_not_depend_on_the_chunking() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        for &hash_type in BillHashType::SUPPORTED {
            let whole = hash_type.hex_digest(&data);
            for chunk in [1, 63, 64, 65, 4096] {
                let mut running = RunningHash::new(hash_type);
                for piece in data.chunks(chunk) {
                    running.update(piece);
                }
                let digest = running.finish();
                assert_eq!(digest.hash_type(), hash_type);
                assert_eq!(digest.hex(), whole, "{hash_type} in pieces of {chunk}");
            }
        }
    }

    #[test]
    fn digests_match_hash_values_in_any_case() {
        let digest = RunningHash::new(BillHashType::Sm3).finish();
        assert!(digest.matches(&format!(" {} ", digest.hex().to_uppercase())));
        assert!(!digest.matches(&BillHashType::Sha256.hex_digest(b"")));
        assert!(digest.to_string().starts_with("SM3:"));
    }
}
