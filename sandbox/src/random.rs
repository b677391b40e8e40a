//! Random identifiers: digits, hex and alphanumeric strings for ids,
//! serials, nonces and tokens.
//!
//! A leaf that imports no module of the crate, so that the keys
//! (`credentials`), the certificates, the signer and the handlers can all
//! use it without importing one another.

use rand::Rng;
use rand::distr::Alphanumeric;

/// `len` random decimal digits.
pub(crate) fn random_digits(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// `len` random upper-case hex digits.
pub(crate) fn random_upper_hex(rng: &mut impl Rng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    (0..len)
        .map(|_| char::from(HEX[rng.random_range(0..16usize)]))
        .collect()
}

/// `len` random ASCII letters and digits (nonces, tokens, ids).
pub(crate) fn random_alphanumeric(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect()
}
