//! The sandbox's spec validation: a JSON body checked against an
//! operation's request schema from the generated table, a parameter's text
//! against its schema, and the answer made up for it checked against the
//! response schema. A refused body is a 400 `PARAM_ERROR` in the body
//! whose `detail.field` is a JSON pointer into the body that finds
//! `detail.value` (or, for a missing field, a parent object lacking it);
//! an accepted body is accepted again after re-serialisation, and the
//! answer echoing it passes the operation's own response schema; a
//! refused parameter names itself and quotes the text.
//! Input: a first line `METHOD /path/template` naming the operation (any
//! other text picks one by its bytes), then the JSON body, a parameter
//! selector and the parameter's text, separated by 0xFF.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use wxpay_fuzz::split;
use wxpay_sandbox::__fuzz::{
    Refusal, SpecOperation, spec_answer, spec_check_body, spec_check_param, spec_operations,
};

fn operations() -> &'static [SpecOperation] {
    static OPERATIONS: OnceLock<Vec<SpecOperation>> = OnceLock::new();
    OPERATIONS.get_or_init(spec_operations)
}

/// Undoes RFC 6901 escaping of one reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Whether `value` holds a number that is not an integer.
fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

/// A body refusal names what it refuses.
fn check_refusal(body: &Value, refusal: &Refusal) {
    assert_eq!(refusal.status, 400, "{refusal:?}");
    assert_eq!(refusal.body["code"], "PARAM_ERROR", "{refusal:?}");
    let detail = &refusal.body["detail"];
    assert_eq!(detail["location"], "body", "{refusal:?}");
    let field = detail["field"].as_str().expect("detail.field");
    assert!(field.is_empty() || field.starts_with('/'), "{field:?}");
    match detail.get("value") {
        Some(value) => assert_eq!(
            body.pointer(field),
            Some(value),
            "{field:?} does not find the value quoted"
        ),
        None => {
            let (parent, token) = field.rsplit_once('/').expect("a missing field's pointer");
            let parent = body
                .pointer(parent)
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("{parent:?} is not an object of the body"));
            assert!(
                parent.get(&unescape(token)).is_none_or(Value::is_null),
                "{field:?} is reported missing but is there"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let ops = operations();
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    let op = ops
        .iter()
        .find(|op| line.split_once(' ') == Some((&op.method, &op.path)))
        .unwrap_or_else(|| {
            let pick = line
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
            &ops[pick % ops.len()]
        });
    let parts = split(rest, 3);

    if let Ok(body) = serde_json::from_slice::<Value>(parts[0]) {
        match spec_check_body(op.index, &body) {
            Ok(()) => {
                let again: Value =
                    serde_json::from_slice(&serde_json::to_vec(&body).expect("serializes"))
                        .expect("parses");
                // serde_json's default float parsing does not always read
                // back the shortest form it wrote.
                if !has_float(&body) {
                    assert_eq!(again, body);
                }
                assert!(spec_check_body(op.index, &again).is_ok());
                if op.has_response {
                    let mut echo = Map::new();
                    if let Value::Object(object) = &body {
                        for (name, value) in object {
                            if !value.is_null() {
                                echo.insert(name.clone(), value.clone());
                            }
                        }
                    }
                    let (answer, check) = spec_answer(op.index, &echo).expect("a JSON answer");
                    if let Err(refusal) = check {
                        panic!(
                            "{} {}: the answer made up does not fit its own schema: {refusal:?}\n{answer}",
                            op.method, op.path
                        );
                    }
                }
            }
            Err(refusal) => {
                assert!(op.has_body);
                check_refusal(&body, &refusal);
            }
        }
    }

    if !op.params.is_empty() {
        let which = parts[1].first().map_or(0, |&b| usize::from(b)) % op.params.len();
        let text = String::from_utf8_lossy(parts[2]);
        match spec_check_param(op.index, which, &text).expect("the parameter exists") {
            Ok(Value::String(echoed)) => assert_eq!(echoed, text),
            Ok(_) => {}
            Err(refusal) => {
                assert_eq!(refusal.status, 400);
                assert_eq!(refusal.body["code"], "PARAM_ERROR");
                let detail = &refusal.body["detail"];
                assert_eq!(detail["field"], format!("/{}", op.params[which]));
                assert_eq!(detail["value"], *text);
                assert!(matches!(
                    detail["location"].as_str(),
                    Some("path" | "query")
                ));
            }
        }
    }
});
