//! Writing to stdout and stderr: a closed pipe (`wxpay … | head`) ends the
//! output quietly instead of panicking.

use std::io::{ErrorKind, Write};

use crate::error::Failure;

/// Writes `bytes` to stdout. A closed pipe is not a failure.
pub fn stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() != ErrorKind::BrokenPipe => {
            Err(Failure::Other(format!("cannot write to stdout: {error}")))
        }
        _ => Ok(()),
    }
}

/// Writes one line to stdout.
pub fn line(text: &str) -> Result<(), Failure> {
    stdout(format!("{text}\n").as_bytes())
}

/// Writes one line to stderr (best effort: there is nowhere else to say
/// that stderr is gone).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints a failure on stderr: `error: ` before the headline, the other
/// lines as they are.
pub fn error_lines(lines: &[String]) {
    let mut err = std::io::stderr().lock();
    for (index, text) in lines.iter().enumerate() {
        let _ = if index == 0 {
            writeln!(err, "error: {text}")
        } else {
            writeln!(err, "{text}")
        };
    }
}

/// `bytes` as pretty JSON (two-space indent, `"key": value`) when they are
/// one JSON document, else `None`.
///
/// Only whitespace outside strings changes: keys keep the server's order
/// and numbers their exact digits, which a round trip through
/// `serde_json::Value` would not guarantee.
pub fn pretty_json(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|next| next.is_ascii_whitespace()) {
                    chars.next();
                }
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn pretty_json_keeps_order_digits_and_strings() {
        let text = br#" {"z": 1.50, "a":[ ], "m":{"k":"a, \"b\": {c}"},"n":[1,{}],"big":123456789012345678901234567890} "#;
        let pretty = pretty_json(text).expect("JSON");
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": [],\n  \"m\": {\n    \"k\": \"a, \\\"b\\\": {c}\"\n  },\n  \"n\": [\n    1,\n    {}\n  ],\n  \"big\": 123456789012345678901234567890\n}"
        );
        let value: serde_json::Value = serde_json::from_str(&pretty).expect("still JSON");
        let original: serde_json::Value = serde_json::from_slice(text).expect("JSON");
        assert_eq!(value, original);
        assert_eq!(pretty_json(b"\"x\""), Some("\"x\"".to_owned()));
        assert_eq!(pretty_json(b"{\"a\":1} x"), None);
        assert_eq!(pretty_json(b""), None);
    }
}
