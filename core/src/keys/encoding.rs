//! Reading PEM blocks and looking inside RSA key DER, with every buffer that
//! may hold key material wiped when dropped.
//!
//! The parsing itself is done by kept RustCrypto crates: `pem-rfc7468`
//! decodes the PEM (base64 in constant time), `der` with `pkcs8`, `pkcs1`
//! and `spki` reads the key structures. What stays here is where the input
//! differs from what those crates accept (see [`read_pem`]) and the clear
//! errors. The DER inspection only reads the outer structure (the algorithm
//! and the modulus length) to give the same errors whatever the backend; the
//! backend parses the key for real.

use der::Decode as _;
use der::asn1::UintRef;
use pem_rfc7468::LineEnding;
use pkcs1::{RsaPrivateKeyRef, RsaPublicKeyRef};
use pkcs8::PrivateKeyInfoRef;
use spki::{AlgorithmIdentifierRef, ObjectIdentifier, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use super::error::KeyError;

/// What is being loaded: names it in errors and lists the accepted labels.
#[derive(Clone, Copy)]
pub(crate) struct PemKind {
    /// "merchant private key", …
    pub(crate) what: &'static str,
    /// The PEM labels accepted.
    pub(crate) labels: &'static [&'static str],
    /// The accepted labels, for messages.
    pub(crate) expected: &'static str,
}

pub(crate) const MERCHANT_KEY: PemKind = PemKind {
    what: "merchant private key",
    labels: &["PRIVATE KEY", "RSA PRIVATE KEY"],
    expected: "`PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1)",
};

pub(crate) const PUBLIC_KEY: PemKind = PemKind {
    what: "WeChat Pay public key",
    labels: &["PUBLIC KEY", "RSA PUBLIC KEY"],
    expected: "`PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1)",
};

pub(crate) const CERTIFICATE: PemKind = PemKind {
    what: "platform certificate",
    labels: &["CERTIFICATE"],
    expected: "`CERTIFICATE`",
};

/// One PEM block, decoded.
pub(crate) struct PemBlock {
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Finds the first block of `text` whose label `kind` accepts and decodes it.
/// Blocks of other labels before it are skipped without being decoded.
///
/// Hand-written on purpose, and limited to finding the boundary lines:
/// `pem-rfc7468` reads exactly one document in RFC 7468's strict layout
/// (64-character lines, nothing after the `-----END` line), while merchants
/// hand us `apiclient_key.pem` next to a certificate in one file, keys kept
/// in environment variables with literal `\n`, on one line, or with CRLF.
/// The block found is laid out again in the strict form and `pem-rfc7468`
/// checks and decodes it; no base64 or DER is read here.
pub(crate) fn read_pem(text: &str, kind: PemKind) -> Result<PemBlock, KeyError> {
    let not_pem = |reason: String| KeyError::NotPem {
        what: kind.what,
        expected: kind.expected,
        reason,
    };
    if text.trim().is_empty() {
        return Err(not_pem("the text is empty".to_owned()));
    }
    let mut first_label: Option<&str> = None;
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .filter(|&end| !after[..end].contains(['\n', '\r']))
            .ok_or_else(|| not_pem("a `-----BEGIN` line is not closed by `-----`".to_owned()))?;
        let label = after[..label_end].trim();
        let after_label = &after[label_end + "-----".len()..];
        let end_marker = format!("-----END {label}-----");
        let body_end = after_label.find(&end_marker).ok_or_else(|| {
            not_pem(format!(
                "the `{end_marker}` line is missing: the text may be truncated"
            ))
        })?;
        if kind.labels.contains(&label) {
            let der = decode_body(&after_label[..body_end], label).map_err(not_pem)?;
            return Ok(PemBlock { der });
        }
        first_label.get_or_insert(label);
        rest = &after_label[body_end + end_marker.len()..];
    }
    match first_label {
        Some(found) => Err(KeyError::UnexpectedPemLabel {
            what: kind.what,
            found: found.to_owned(),
            expected: kind.expected,
            hint: label_hint(kind, found),
        }),
        None => Err(not_pem(
            "no `-----BEGIN …-----` line found (give the whole PEM file, not only its base64 body)"
                .to_owned(),
        )),
    }
}

/// Decodes the body of a block with `pem-rfc7468`, after laying it out in
/// the strict form. Line breaks, spaces and literal `\n` escapes (as in keys
/// kept in environment variables) are ignored.
fn decode_body(body: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) would be lost with the
    // line breaks below; base64 has no `:`, so look for one first.
    if body.contains(':') {
        return Err(format!(
            "the `{label}` block has headers (`Proc-Type: 4,ENCRYPTED`?): it is encrypted with a password; export it without one"
        ));
    }
    let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // `\n`, `\r` written out as two characters.
            chars.next();
        } else if !c.is_whitespace() {
            base64.push(c);
        }
    }
    if base64.is_empty() {
        return Err(format!("the `{label}` block is empty"));
    }
    if !base64.is_ascii() {
        return Err(not_base64(label));
    }
    let mut strict = Zeroizing::new(String::with_capacity(
        base64.len() + base64.len() / 64 + 2 * label.len() + 40,
    ));
    strict.push_str("-----BEGIN ");
    strict.push_str(label);
    strict.push_str("-----\n");
    for line in base64.as_bytes().chunks(64) {
        strict.push_str(std::str::from_utf8(line).map_err(|_| not_base64(label))?);
        strict.push('\n');
    }
    strict.push_str("-----END ");
    strict.push_str(label);
    strict.push_str("-----\n");
    // Decoded into our own buffer, wiped on drop, on failure too.
    let mut der = Zeroizing::new(vec![0u8; base64.len() / 4 * 3 + 3]);
    let len = match pem_rfc7468::decode(strict.as_bytes(), &mut der) {
        Ok((_, decoded)) => decoded.len(),
        Err(
            pem_rfc7468::Error::Base64(_)
            | pem_rfc7468::Error::EncapsulatedText
            | pem_rfc7468::Error::Length,
        ) => return Err(not_base64(label)),
        Err(error) => return Err(format!("the `{label}` block is malformed ({error})")),
    };
    der.truncate(len);
    Ok(der)
}

fn not_base64(label: &str) -> String {
    format!("the body of the `{label}` block is not valid base64: the text may be damaged")
}

/// Advice for a common mix-up of files.
fn label_hint(kind: PemKind, found: &str) -> &'static str {
    let want_private = kind.labels.contains(&"PRIVATE KEY");
    let want_public = kind.labels.contains(&"PUBLIC KEY");
    match found {
        "ENCRYPTED PRIVATE KEY" if want_private => {
            " (the key is encrypted with a password: export it unencrypted, as WeChat Pay's certificate tool writes `apiclient_key.pem`)"
        }
        "CERTIFICATE" if want_private => {
            " (a certificate holds no private key: use `apiclient_key.pem`, not `apiclient_cert.pem`)"
        }
        "CERTIFICATE" if want_public => {
            " (load a platform certificate with `PlatformCertificate::from_pem`)"
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" if want_private => {
            " (a public key cannot sign: use the merchant private key, `apiclient_key.pem`)"
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            " (load a WeChat Pay public key, `PUB_KEY_ID_…`, with `VerifyingKey::from_public_key_pem`)"
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
            " (this is a private key: WeChat Pay's signatures are checked with its public key or platform certificate)"
        }
        "EC PRIVATE KEY" => " (WeChat Pay APIv3 uses RSA keys)",
        _ => "",
    }
}

/// The PEM text of one block, lines of 64 characters, `\n` line ends.
///
/// # Errors
/// Only for a label RFC 7468 does not allow; ours are constants.
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> Result<String, pem_rfc7468::Error> {
    pem_rfc7468::encode_string(label, LineEnding::LF, der)
}

/// The DER format of an RSA key, found by looking at its structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaDer {
    /// PKCS#8 `PrivateKeyInfo`.
    Pkcs8Private,
    /// PKCS#1 `RSAPrivateKey`.
    Pkcs1Private,
    /// X.509 `SubjectPublicKeyInfo`.
    Spki,
    /// PKCS#1 `RSAPublicKey`.
    Pkcs1Public,
}

/// Why a DER key was refused before reaching the backend.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DerProblem {
    /// Not the expected structure. The reason names the structure and the
    /// `der` error (a position and a tag or length, never key bytes).
    Malformed(String),
    /// A well-formed key of another algorithm.
    NotRsa(String),
}

impl DerProblem {
    pub(crate) fn into_key_error(self, what: &'static str) -> KeyError {
        match self {
            Self::Malformed(reason) => KeyError::InvalidKey { what, reason },
            Self::NotRsa(algorithm) => KeyError::NotRsa { what, algorithm },
        }
    }
}

/// The bit length of an unsigned DER INTEGER (`UintRef` has no leading
/// zero bytes).
fn integer_bits(value: UintRef<'_>) -> usize {
    let bytes = value.as_bytes();
    match bytes.first() {
        Some(&first) => bytes.len() * 8 - usize::try_from(first.leading_zeros()).unwrap_or(0),
        None => 0,
    }
}

/// Checks that an `AlgorithmIdentifier` names rsaEncryption.
fn check_rsa_algorithm(algorithm: AlgorithmIdentifierRef<'_>) -> Result<(), DerProblem> {
    if algorithm.oid == pkcs1::ALGORITHM_OID {
        Ok(())
    } else {
        Err(DerProblem::NotRsa(algorithm_name(algorithm)))
    }
}

/// Inspects a private key: its format and modulus length.
pub(crate) fn inspect_private(der: &[u8]) -> Result<(RsaDer, usize), DerProblem> {
    if let Ok(key) = RsaPrivateKeyRef::from_der(der) {
        return Ok((RsaDer::Pkcs1Private, integer_bits(key.modulus)));
    }
    let info = PrivateKeyInfoRef::from_der(der).map_err(|error| {
        DerProblem::Malformed(format!(
            "the DER is neither a PKCS#8 PrivateKeyInfo nor a PKCS#1 RSAPrivateKey ({error}): the file may be damaged"
        ))
    })?;
    check_rsa_algorithm(info.algorithm)?;
    let key = RsaPrivateKeyRef::from_der(info.private_key.as_bytes()).map_err(|error| {
        DerProblem::Malformed(format!(
            "the RSA private key inside the PKCS#8 wrapper is malformed ({error})"
        ))
    })?;
    Ok((RsaDer::Pkcs8Private, integer_bits(key.modulus)))
}

/// Inspects a public key: its format and modulus length.
pub(crate) fn inspect_public(der: &[u8]) -> Result<(RsaDer, usize), DerProblem> {
    if let Ok(key) = RsaPublicKeyRef::from_der(der) {
        return Ok((RsaDer::Pkcs1Public, integer_bits(key.modulus)));
    }
    let info = SubjectPublicKeyInfoRef::from_der(der).map_err(|error| {
        DerProblem::Malformed(format!(
            "the DER is neither a SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey ({error}): the file may be damaged"
        ))
    })?;
    check_rsa_algorithm(info.algorithm)?;
    let malformed = |detail: String| {
        DerProblem::Malformed(format!(
            "the RSA public key inside the SubjectPublicKeyInfo is malformed ({detail})"
        ))
    };
    let bytes = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| malformed("the bit string does not hold whole bytes".to_owned()))?;
    let key = RsaPublicKeyRef::from_der(bytes).map_err(|error| malformed(error.to_string()))?;
    Ok((RsaDer::Spki, integer_bits(key.modulus)))
}

/// A readable name for a key algorithm (with the curve for EC keys), and
/// its OID.
fn algorithm_name(algorithm: AlgorithmIdentifierRef<'_>) -> String {
    const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
    const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
    let oid = algorithm.oid;
    let name = match oid {
        EC_PUBLIC_KEY => {
            let curve = algorithm
                .parameters
                .and_then(|params| params.decode_as::<ObjectIdentifier>().ok());
            if curve == Some(SM2) {
                "SM2 (China's national-standard elliptic curve)"
            } else {
                "elliptic curve (EC)"
            }
        }
        RSASSA_PSS => "RSASSA-PSS (an RSA key restricted to PSS signatures)",
        ED25519 => "Ed25519",
        DSA => "DSA",
        _ => return format!("OID {oid}"),
    };
    format!("{name}, OID {oid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_errors() {
        assert!(matches!(
            read_pem("", MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
        assert!(matches!(
            read_pem("   \n", MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
        assert!(matches!(
            read_pem("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
        let truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n";
        let error = read_pem(truncated, MERCHANT_KEY)
            .err()
            .map(|e| e.to_string());
        assert!(
            error.is_some_and(|e| e.contains("-----END PRIVATE KEY----- line is missing")
                || e.contains("`-----END PRIVATE KEY-----`"))
        );
        for bad in [
            "!!!!",
            "AAA",
            "AAAAA",
            "AB==",
            "AA==AA==",
            "密钥AAAA",
            "AAAA=",
        ] {
            let text = format!("-----BEGIN PRIVATE KEY-----\n{bad}\n-----END PRIVATE KEY-----\n");
            match read_pem(&text, MERCHANT_KEY) {
                Err(error @ KeyError::NotPem { .. }) => {
                    assert!(error.to_string().contains("not valid base64"), "{error}");
                }
                Err(other) => panic!("{bad}: expected NotPem, got {other:?}"),
                Ok(_) => panic!("{bad}: expected NotPem, got a block"),
            }
        }
        let empty = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            read_pem(empty, MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
        let unclosed = "-----BEGIN PRIVATE KEY\nAAAA\n-----END PRIVATE KEY-----";
        assert!(matches!(
            read_pem(unclosed, MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let error = read_pem(encrypted, MERCHANT_KEY)
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("password")));
    }

    #[test]
    fn pem_label_mismatch_gives_a_hint() {
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        match read_pem(cert, MERCHANT_KEY) {
            Err(KeyError::UnexpectedPemLabel { found, hint, .. }) => {
                assert_eq!(found, "CERTIFICATE");
                assert!(hint.contains("apiclient_key.pem"));
            }
            _ => panic!("expected UnexpectedPemLabel"),
        }
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            read_pem(key, PUBLIC_KEY),
            Err(KeyError::UnexpectedPemLabel { .. })
        ));
        assert!(matches!(
            read_pem(key, CERTIFICATE),
            Err(KeyError::UnexpectedPemLabel { .. })
        ));
    }

    #[test]
    fn pem_skips_other_blocks_and_accepts_escapes() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
                    -----BEGIN PRIVATE KEY-----\r\nAQID\r\nBA==\r\n-----END PRIVATE KEY-----\r\n";
        let block = read_pem(text, MERCHANT_KEY).ok();
        assert_eq!(block.map(|b| b.der.to_vec()), Some(vec![1, 2, 3, 4]));
        let escaped = r"-----BEGIN PUBLIC KEY-----\nAQID\nBA==\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            read_pem(escaped, PUBLIC_KEY).ok().map(|b| b.der.to_vec()),
            Some(vec![1, 2, 3, 4])
        );
        let one_line = "-----BEGIN PUBLIC KEY-----AQIDBA==-----END PUBLIC KEY-----";
        assert_eq!(
            read_pem(one_line, PUBLIC_KEY).ok().map(|b| b.der.to_vec()),
            Some(vec![1, 2, 3, 4])
        );
        // Lines of another width than 64 (some tools wrap at 76).
        let der: Vec<u8> = (0..=200).collect();
        let mut pem = "-----BEGIN PUBLIC KEY-----\n".to_owned();
        let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        for line in body.as_bytes().chunks(76) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        assert_eq!(
            read_pem(&pem, PUBLIC_KEY).ok().map(|b| b.der.to_vec()),
            Some(der)
        );
    }

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode_pem("CERTIFICATE", &der).unwrap_or_default();
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(
            read_pem(&pem, CERTIFICATE).ok().map(|b| b.der.to_vec()),
            Some(der)
        );
    }

    #[test]
    fn der_inspection() {
        // RSAPublicKey { n = 0x00C1 (8 bits), e = 3 }
        let pkcs1 = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03];
        assert_eq!(inspect_public(&pkcs1), Ok((RsaDer::Pkcs1Public, 8)));
        assert!(matches!(inspect_public(&[]), Err(DerProblem::Malformed(_))));
        assert!(matches!(
            inspect_public(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(DerProblem::Malformed(_))
        ));
        // Trailing bytes after the key are refused.
        assert!(matches!(
            inspect_public(&[&pkcs1[..], &[0x00]].concat()),
            Err(DerProblem::Malformed(_))
        ));
        assert!(matches!(
            inspect_private(&[0x30]),
            Err(DerProblem::Malformed(_))
        ));
        // SubjectPublicKeyInfo of an EC key on the SM2 curve.
        let mut spki = vec![0x30, 0x00, 0x30, 0x13, 0x06, 0x07];
        spki.extend_from_slice(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
        spki.extend_from_slice(&[0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d]);
        spki.extend_from_slice(&[0x03, 0x02, 0x00, 0x04]);
        spki[1] = u8::try_from(spki.len() - 2).unwrap_or(0);
        match inspect_public(&spki) {
            Err(DerProblem::NotRsa(name)) => {
                assert!(name.contains("SM2"), "{name}");
                assert!(name.contains("1.2.840.10045.2.1"), "{name}");
            }
            other => panic!("expected NotRsa, got {other:?}"),
        }
        // The same key as PKCS#8 with an unknown algorithm: named by OID.
        let mut pkcs8 = vec![0x30, 0x00, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03];
        pkcs8.extend_from_slice(&[0x2a, 0x03, 0x04, 0x04, 0x01, 0x00]);
        pkcs8[1] = u8::try_from(pkcs8.len() - 2).unwrap_or(0);
        assert_eq!(
            inspect_private(&pkcs8),
            Err(DerProblem::NotRsa("OID 1.2.3.4".to_owned()))
        );
        // rsaEncryption whose inner key is not an RSAPrivateKey.
        let mut wrapped = vec![0x30, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09];
        wrapped.extend_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);
        wrapped.extend_from_slice(&[0x05, 0x00, 0x04, 0x01, 0x00]);
        wrapped[1] = u8::try_from(wrapped.len() - 2).unwrap_or(0);
        match inspect_private(&wrapped) {
            Err(DerProblem::Malformed(reason)) => {
                assert!(reason.contains("inside the PKCS#8 wrapper"), "{reason}");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn integer_bit_lengths() {
        let bits = |bytes: &[u8]| UintRef::new(bytes).map(integer_bits).ok();
        assert_eq!(bits(&[]), Some(0));
        assert_eq!(bits(&[0]), Some(0));
        assert_eq!(bits(&[0, 0x80]), Some(8));
        assert_eq!(bits(&[0x01, 0x00]), Some(9));
    }
}
