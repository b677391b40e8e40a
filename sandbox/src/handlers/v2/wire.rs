//! The APIv2 wire format, written independently of `wxpay-core`: flat
//! XML documents (`<xml><name>value</name>…</xml>`), the `MD5` and
//! `HMAC-SHA256` signatures over sorted `k=v` pairs, and the refund
//! notification's AES-256-ECB `req_info`.

use std::collections::BTreeMap;

use aws_lc_rs::cipher::{AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};

/// An APIv2 document's members, sorted by name (the signing order).
pub(crate) type Fields = BTreeMap<String, String>;

/// At most this many members in a request document.
const MAX_FIELDS: usize = 128;

/// How a document is signed (`sign_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignType {
    /// `MD5`, the default when `sign_type` is absent.
    Md5,
    /// `HMAC-SHA256`.
    HmacSha256,
}

/// The signature of `fields` (every non-empty member but `sign`, sorted,
/// `k=v` joined by `&`, then `&key=KEY`): upper-case hex.
pub(crate) fn sign(fields: &Fields, key: &str, sign_type: SignType) -> String {
    let mut text = String::new();
    for (name, value) in fields {
        if name == "sign" || value.is_empty() {
            continue;
        }
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('&');
    }
    text.push_str("key=");
    text.push_str(key);
    match sign_type {
        SignType::Md5 => hex::encode_upper(Md5::digest(text.as_bytes())),
        SignType::HmacSha256 => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
            hex::encode_upper(hmac::sign(&key, text.as_bytes()).as_ref())
        }
    }
}

/// Whether `fields`' `sign` is right (compared case-insensitively, as
/// WeChat Pay does).
pub(crate) fn verify(fields: &Fields, key: &str, sign_type: SignType) -> bool {
    let expected = sign(fields, key, sign_type);
    fields
        .get("sign")
        .is_some_and(|given| given.eq_ignore_ascii_case(&expected))
}

/// Writes `<root>` with every member as CDATA (a `]]>` in a value split
/// across two sections).
pub(crate) fn to_xml(root: &str, fields: &Fields) -> String {
    let mut out = format!("<{root}>");
    for (name, value) in fields {
        out.push('<');
        out.push_str(name);
        out.push_str("><![CDATA[");
        out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]></");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    out
}

/// Reads a flat XML document: an optional `<?xml …?>` declaration, one
/// root element, and in it elements holding text, CDATA sections and the
/// five predefined and numeric character references. No DTD, no
/// comments, no nested elements, no attributes on members, at most 128
/// members, each name once. The error says what is wrong.
pub(crate) fn parse(body: &[u8]) -> Result<Fields, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after
            .find("?>")
            .ok_or("the XML declaration is not closed")?;
        rest = after[end + 2..].trim_start();
    }
    if rest.starts_with("<!") {
        return Err("a DTD or comment is not allowed".to_owned());
    }
    let rest_root = rest.strip_prefix('<').ok_or("no root element")?;
    let root_end = rest_root
        .find('>')
        .ok_or("the root element is not closed")?;
    let root = rest_root[..root_end].trim();
    let root = root.split_whitespace().next().unwrap_or_default();
    if root.is_empty() || !is_name(root) {
        return Err("the root element has no valid name".to_owned());
    }
    let mut rest = &rest_root[root_end + 1..];
    let closing_root = format!("</{root}>");
    let mut fields = Fields::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(closing_root.as_str()) {
            if !after.trim().is_empty() {
                return Err("content after the root element".to_owned());
            }
            return Ok(fields);
        }
        let after = rest
            .strip_prefix('<')
            .ok_or("text outside the members, or the root element is not closed")?;
        let name_end = after.find('>').ok_or("a member's tag is not closed")?;
        let tag = &after[..name_end];
        rest = &after[name_end + 1..];
        let (name, value) = if let Some(name) = tag.strip_suffix('/') {
            (name.trim(), String::new())
        } else {
            if !is_name(tag) {
                return Err(format!("{tag:?} is not a member name"));
            }
            let closing = format!("</{tag}>");
            let mut value = String::new();
            loop {
                if let Some(after) = rest.strip_prefix(closing.as_str()) {
                    rest = after;
                    break;
                }
                if let Some(after) = rest.strip_prefix("<![CDATA[") {
                    let end = after.find("]]>").ok_or("a CDATA section is not closed")?;
                    value.push_str(&after[..end]);
                    rest = &after[end + 3..];
                } else if rest.starts_with('<') {
                    return Err(format!("member {tag} holds an element or is not closed"));
                } else if let Some(after) = rest.strip_prefix('&') {
                    let end = after.find(';').ok_or("an unterminated reference")?;
                    value.push(reference(&after[..end])?);
                    rest = &after[end + 1..];
                } else {
                    let end = rest
                        .find(['<', '&'])
                        .ok_or("the document ends inside a member")?;
                    value.push_str(&rest[..end]);
                    rest = &rest[end..];
                }
            }
            (tag, value)
        };
        if !is_name(name) {
            return Err(format!("{name:?} is not a member name"));
        }
        if fields.len() == MAX_FIELDS {
            return Err(format!("more than {MAX_FIELDS} members"));
        }
        if fields.insert(name.to_owned(), value).is_some() {
            return Err(format!("member {name} appears twice"));
        }
    }
}

/// An XML name as APIv2 uses them: `[A-Za-z_][A-Za-z0-9_.-]*`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `&name;` → the character.
fn reference(name: &str) -> Result<char, String> {
    let code = match name {
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "amp" => return Ok('&'),
        "apos" => return Ok('\''),
        "quot" => return Ok('"'),
        _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
        },
    };
    code.and_then(char::from_u32)
        .ok_or_else(|| format!("unknown reference &{name};"))
}

/// The refund notification's `req_info`: `plain` under AES-256-ECB with
/// PKCS#7 padding, keyed with the lower-case hex MD5 of the APIv2 key,
/// base64. `None` if the cipher refuses (it does not for a 32-byte key).
pub(crate) fn encrypt_req_info(plain: &[u8], apiv2_key: &str) -> Option<String> {
    let digest = Md5::digest(apiv2_key.as_bytes());
    let aes_key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let key = UnboundCipherKey::new(&AES_256, aes_key.as_bytes()).ok()?;
    let key = PaddedBlockEncryptingKey::ecb_pkcs7(key).ok()?;
    let mut buffer = plain.to_vec();
    key.encrypt(&mut buffer).ok()?;
    Some(STANDARD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_md5_example_signs_as_published() {
        // WeChat Pay's signing guide.
        let mut fields = Fields::new();
        for (k, v) in [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ] {
            fields.insert(k.to_owned(), v.to_owned());
        }
        let key = "192006250b4c09247ec02edce69f6a2d";
        assert_eq!(
            sign(&fields, key, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(&fields, key, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn documents_round_trip_and_bad_ones_are_refused() {
        let mut fields = Fields::new();
        fields.insert("a".into(), "x]]>y<&".into());
        fields.insert("b".into(), String::new());
        let xml = to_xml("xml", &fields);
        assert_eq!(parse(xml.as_bytes()).expect("parsed"), fields);
        let parsed = parse(b"<?xml version=\"1.0\"?>\n<xml>\n <a>1 &amp; 2</a><b/></xml>\n")
            .expect("parsed");
        assert_eq!(parsed["a"], "1 & 2");
        assert_eq!(parsed["b"], "");
        for bad in [
            &b""[..],
            b"<xml><a>1</a>",
            b"<xml><a><b>1</b></a></xml>",
            b"<xml><a>1</a><a>2</a></xml>",
            b"<!DOCTYPE x><xml/>",
            b"<xml><a>&ent;</a></xml>",
            b"<xml>text</xml>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
