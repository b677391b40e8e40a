//! A serde serializer that writes a flat struct or map as query pairs.

use serde::Serialize;

use super::{BuildError, Target};

pub(super) fn append<T: Serialize + ?Sized>(target: &mut Target, params: &T) -> Result<(), BuildError> {
    // Placeholder so the crate builds; the real serializer replaces this.
    let value = serde_json::to_value(params).map_err(|e| BuildError::Query {
        name: String::new(),
        reason: e.to_string(),
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(BuildError::Query { name: String::new(), reason: "not a struct or map".into() });
    };
    for (key, value) in map {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => target.push_query_pair(&key, &s),
            serde_json::Value::Number(n) => target.push_query_pair(&key, &n.to_string()),
            serde_json::Value::Bool(b) => target.push_query_pair(&key, if b { "true" } else { "false" }),
            _ => {
                return Err(BuildError::Query { name: key, reason: "nested values have no query form".into() });
            }
        }
    }
    Ok(())
}
