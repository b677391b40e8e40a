//! Reading PEM blocks and looking inside RSA key DER, with every buffer that
//! may hold key material wiped when dropped.
//!
//! The DER inspection only reads the outer structure (the algorithm and the
//! modulus length) to give the same clear errors whatever the backend; the
//! backend parses the key for real.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
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

/// Decodes the base64 body of a block. Line breaks, spaces and literal `\n`
/// escapes (as in keys kept in environment variables) are ignored.
fn decode_body(body: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, String> {
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
    let mut der = Zeroizing::new(Vec::with_capacity(base64.len() / 4 * 3 + 3));
    STANDARD
        .decode_vec(base64.as_bytes(), &mut der)
        .map_err(|_| {
            format!("the body of the `{label}` block is not valid base64: the text may be damaged")
        })?;
    Ok(der)
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
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        pem.push_str(line);
        pem.push('\n');
        rest = tail;
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    pem
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
    /// Not the expected structure.
    Malformed(&'static str),
    /// A well-formed key of another algorithm.
    NotRsa(String),
}

impl DerProblem {
    pub(crate) fn into_key_error(self, what: &'static str) -> KeyError {
        match self {
            Self::Malformed(reason) => KeyError::InvalidKey {
                what,
                reason: reason.to_owned(),
            },
            Self::NotRsa(algorithm) => KeyError::NotRsa { what, algorithm },
        }
    }
}

/// The rsaEncryption OID, 1.2.840.113549.1.1.1, as DER content.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;

/// Reads one DER element with tag `tag`: its contents and what follows.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(count);
        let len = len_bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, rest)
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The bit length of a DER INTEGER's contents (unsigned).
fn integer_bits(contents: &[u8]) -> usize {
    let significant = contents
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |i| &contents[i..]);
    match significant.first() {
        Some(&first) => {
            (significant.len() - 1) * 8 + (8 - usize::try_from(first.leading_zeros()).unwrap_or(0))
        }
        None => 0,
    }
}

/// `RSAPrivateKey ::= SEQUENCE { version, modulus, … }` → modulus bits.
fn pkcs1_private_bits(der: &[u8]) -> Option<usize> {
    let (seq, _) = element(der, SEQUENCE)?;
    let (_version, rest) = element(seq, INTEGER)?;
    let (modulus, rest) = element(rest, INTEGER)?;
    let (_exponent, _) = element(rest, INTEGER)?;
    Some(integer_bits(modulus))
}

/// `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }` → modulus bits.
fn pkcs1_public_bits(der: &[u8]) -> Option<usize> {
    let (seq, _) = element(der, SEQUENCE)?;
    let (modulus, rest) = element(seq, INTEGER)?;
    let (_exponent, rest) = element(rest, INTEGER)?;
    rest.is_empty().then(|| integer_bits(modulus))
}

/// Checks that an `AlgorithmIdentifier` names rsaEncryption.
fn check_rsa_algorithm(algorithm: &[u8]) -> Result<(), DerProblem> {
    let (oid, params) = element(algorithm, OID).ok_or(DerProblem::Malformed(
        "the algorithm identifier is malformed",
    ))?;
    if oid == RSA_ENCRYPTION {
        Ok(())
    } else {
        Err(DerProblem::NotRsa(algorithm_name(oid, params)))
    }
}

/// Inspects a private key: its format and modulus length.
pub(crate) fn inspect_private(der: &[u8]) -> Result<(RsaDer, usize), DerProblem> {
    if let Some(bits) = pkcs1_private_bits(der) {
        return Ok((RsaDer::Pkcs1Private, bits));
    }
    let malformed = || {
        DerProblem::Malformed(
            "the DER is neither a PKCS#8 PrivateKeyInfo nor a PKCS#1 RSAPrivateKey: the file may be damaged",
        )
    };
    let (seq, _) = element(der, SEQUENCE).ok_or_else(malformed)?;
    let (_version, rest) = element(seq, INTEGER).ok_or_else(malformed)?;
    let (algorithm, rest) = element(rest, SEQUENCE).ok_or(DerProblem::Malformed(
        "the PKCS#8 algorithm identifier is missing",
    ))?;
    check_rsa_algorithm(algorithm)?;
    let (inner, _) = element(rest, OCTET_STRING).ok_or(DerProblem::Malformed(
        "the PKCS#8 private key octet string is missing",
    ))?;
    let bits = pkcs1_private_bits(inner).ok_or(DerProblem::Malformed(
        "the RSA private key inside the PKCS#8 wrapper is malformed",
    ))?;
    Ok((RsaDer::Pkcs8Private, bits))
}

/// Inspects a public key: its format and modulus length.
pub(crate) fn inspect_public(der: &[u8]) -> Result<(RsaDer, usize), DerProblem> {
    if let Some(bits) = pkcs1_public_bits(der) {
        return Ok((RsaDer::Pkcs1Public, bits));
    }
    let malformed = || {
        DerProblem::Malformed(
            "the DER is neither a SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey: the file may be damaged",
        )
    };
    let (seq, _) = element(der, SEQUENCE).ok_or_else(malformed)?;
    let (algorithm, rest) = element(seq, SEQUENCE).ok_or_else(malformed)?;
    check_rsa_algorithm(algorithm)?;
    let (bit_string, _) = element(rest, BIT_STRING).ok_or_else(malformed)?;
    let bits = match bit_string.split_first() {
        Some((0, key)) => pkcs1_public_bits(key),
        _ => None,
    }
    .ok_or(DerProblem::Malformed(
        "the RSA public key inside the SubjectPublicKeyInfo is malformed",
    ))?;
    Ok((RsaDer::Spki, bits))
}

/// A readable name for a key algorithm OID (and its parameters).
fn algorithm_name(oid: &[u8], params: &[u8]) -> String {
    const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const SM2: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
    const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    const DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
    let dotted = dotted_oid(oid);
    let name = match oid {
        EC_PUBLIC_KEY => match element(params, OID) {
            Some((SM2, _)) => "SM2 (China's national-standard elliptic curve)",
            _ => "elliptic curve (EC)",
        },
        RSASSA_PSS => "RSASSA-PSS (an RSA key restricted to PSS signatures)",
        ED25519 => "Ed25519",
        DSA => "DSA",
        _ => return format!("OID {dotted}"),
    };
    format!("{name}, OID {dotted}")
}

/// An OID's DER contents in dotted notation.
fn dotted_oid(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &byte in oid {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
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
        let not_base64 = "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            read_pem(not_base64, MERCHANT_KEY),
            Err(KeyError::NotPem { .. })
        ));
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
    }

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode_pem("CERTIFICATE", &der);
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
    }

    #[test]
    fn integer_bit_lengths() {
        assert_eq!(integer_bits(&[]), 0);
        assert_eq!(integer_bits(&[0]), 0);
        assert_eq!(integer_bits(&[0, 0x80]), 8);
        assert_eq!(integer_bits(&[0x01, 0x00]), 9);
    }
}
