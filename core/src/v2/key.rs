//! The APIv2 key.

use std::fmt;

use md5::{Digest as _, Md5};
use zeroize::Zeroizing;

/// The length of the APIv2 key, in characters.
const KEY_LEN: usize = 32;

/// The APIv2 key: the 32 ASCII characters set in the merchant platform
/// (Account Center > API Security > "APIv2 key"). It keys the `MD5` and
/// `HMAC-SHA256` signatures of APIv2 requests and answers, and (through its
/// MD5) the encryption of refund notifications.
///
/// It is not the APIv3 key, although both are 32 characters. The text is
/// wiped when dropped; `Debug` shows nothing of it.
#[derive(Clone)]
pub struct V2Key {
    key: Zeroizing<String>,
}

/// The APIv2 key given is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum V2KeyError {
    /// The key is not 32 characters long.
    #[error(
        "the APIv2 key must be exactly 32 characters, found {found}; copy it again from the merchant platform (Account Center > API Security > APIv2 key), without spaces or line ends"
    )]
    Length {
        /// The length found, in bytes.
        found: usize,
    },
    /// The key holds characters outside ASCII.
    #[error(
        "the APIv2 key must be plain ASCII letters and digits; check that the APIv2 key (not a file name or another secret) was given"
    )]
    NotAscii,
}

impl V2Key {
    /// Takes the key as set in the merchant platform.
    ///
    /// # Errors
    /// [`V2KeyError::Length`] when it is not 32 bytes long,
    /// [`V2KeyError::NotAscii`] when it holds anything but printable ASCII.
    pub fn new(key: impl Into<String>) -> Result<Self, V2KeyError> {
        let key = Zeroizing::new(key.into());
        if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(V2KeyError::NotAscii);
        }
        if key.len() != KEY_LEN {
            return Err(V2KeyError::Length { found: key.len() });
        }
        Ok(Self { key })
    }

    /// The key's text, for signing.
    pub(crate) fn as_str(&self) -> &str {
        &self.key
    }

    /// The AES-256 key of refund notifications: the 32 ASCII bytes of the
    /// lower-case hex MD5 of the APIv2 key.
    pub(crate) fn refund_aes_key(&self) -> Zeroizing<[u8; 32]> {
        let digest = Md5::digest(self.key.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        // 16 bytes of digest make exactly 32 hex digits.
        if hex::encode_to_slice(digest, &mut out[..]).is_err() {
            unreachable!("an MD5 digest is 16 bytes");
        }
        out
    }
}

impl fmt::Debug for V2Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2Key")
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}
