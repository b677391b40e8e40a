//! Where the spec says something WeChat Pay does not do, corrected as the
//! spec is read: the catalogue, the sandbox's operation table and the
//! spec tests all see the corrected spec, so there is one place for each
//! such fix and the reason for it.
//!
//! A correction marks members of one schema optional: [`apply`] writes
//! their names into the schema's [`OPTIONAL_KEY`] list, and
//! [`Spec::flatten`](crate::spec::Spec::flatten) leaves them out of the
//! `required` list it merges, including what `allOf` parts require.

use std::path::Path;

use serde_yaml::Value;

/// The extension key that lists a schema's members that are optional
/// whatever its `allOf` parts require.
pub const OPTIONAL_KEY: &str = "x-wxpay-optional";

/// One correction: in the spec file `file`, the schema reached by the keys
/// `at` does not require `members`.
pub struct Optional {
    /// The file, relative to the spec folder.
    pub file: &'static str,
    /// The keys from the file's root to the schema.
    pub at: &'static [&'static str],
    /// The members the spec requires that answers may leave out.
    pub members: &'static [&'static str],
    /// Why: what WeChat Pay answers that the spec does not allow.
    pub why: &'static str,
}

/// The answer of an order query (`GET …/transactions/id/…` or
/// `…/out-trade-no/…`, direct and partner): the spec builds it from the
/// order's create schema, which requires what the merchant sends.
const ORDER_QUERY: &[&str] = &["get", "responses", "200", "schema"];

/// Why an order query's answer lacks `description` and `notify_url`.
const ORDER_QUERY_WHY: &str = "an order query answers the state of the order \
    (appid, mchid, out_trade_no, transaction_id, trade_type, trade_state, amount, \
    payer, …), not the description and notify_url it was placed with";

/// Members the spec marks required that WeChat Pay leaves out.
pub const OPTIONAL: &[Optional] = &[
    Optional {
        file: "definitions/Transaction.yaml",
        at: &["PayerAmount"],
        members: &["payer_total"],
        why: "an order that is not paid yet (NOTPAY, CLOSED, …) is answered with \
              `amount` but without `payer_total`: nobody paid anything; WeChat \
              Pay's documentation of the order query marks it optional",
    },
    Optional {
        file: "v3/pay/transactions/id/{transaction_id}.yaml",
        at: ORDER_QUERY,
        members: &["description", "notify_url"],
        why: ORDER_QUERY_WHY,
    },
    Optional {
        file: "v3/pay/transactions/out-trade-no/{out_trade_no}.yaml",
        at: ORDER_QUERY,
        members: &["description", "notify_url"],
        why: ORDER_QUERY_WHY,
    },
    Optional {
        file: "v3/pay/partner/transactions/id/{transaction_id}.yaml",
        at: ORDER_QUERY,
        members: &["description", "notify_url"],
        why: ORDER_QUERY_WHY,
    },
    Optional {
        file: "v3/pay/partner/transactions/out-trade-no/{out_trade_no}.yaml",
        at: ORDER_QUERY,
        members: &["description", "notify_url"],
        why: ORDER_QUERY_WHY,
    },
];

/// Applies every correction for the file at `rel` to its parsed `value`.
/// A correction whose schema is not in the file changes nothing (the
/// spec moved on; [`missing`] finds it, and the generator refuses to run).
pub fn apply(rel: &Path, value: &mut Value) {
    for fix in OPTIONAL.iter().filter(|fix| Path::new(fix.file) == rel) {
        let mut schema = Some(&mut *value);
        for key in fix.at {
            schema = schema.and_then(|node| child_mut(node, key));
        }
        let Some(Value::Mapping(schema)) = schema else {
            continue;
        };
        let list = schema
            .entry(Value::from(OPTIONAL_KEY))
            .or_insert_with(|| Value::Sequence(Vec::new()));
        if let Value::Sequence(list) = list {
            list.extend(fix.members.iter().map(|member| Value::from(*member)));
        }
    }
}

/// Whether every correction's schema is where it says, in `root` (the
/// spec folder): the names of those that are not.
pub fn missing(root: &Path) -> Vec<String> {
    OPTIONAL
        .iter()
        .filter(|fix| {
            let found = std::fs::read_to_string(root.join(fix.file))
                .ok()
                .and_then(|text| serde_yaml::from_str::<Value>(&text).ok())
                .is_some_and(|value| {
                    let mut node = Some(&value);
                    for key in fix.at {
                        node = node.and_then(|node| child(node, key));
                    }
                    node.is_some_and(Value::is_mapping)
                });
            !found
        })
        .map(|fix| format!("{} at {}", fix.file, fix.at.join(".")))
        .collect()
}

/// The member `key` of a mapping, whether the key is written as text or
/// as a number (`200:` is a number in YAML).
fn child<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    node.as_mapping()?
        .iter()
        .find(|(name, _)| crate::spec::scalar_text(name).as_deref() == Some(key))
        .map(|(_, value)| value)
}

/// [`child`], to change.
fn child_mut<'a>(node: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    node.as_mapping_mut()?
        .iter_mut()
        .find(|(name, _)| crate::spec::scalar_text(name).as_deref() == Some(key))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("valid YAML")
    }

    #[test]
    fn the_schema_named_gets_the_members_listed() {
        let mut value =
            yaml("PayerAmount:\n  required: [payer_total]\nAmount:\n  required: [total]\n");
        apply(Path::new("definitions/Transaction.yaml"), &mut value);
        assert_eq!(value["PayerAmount"][OPTIONAL_KEY], yaml("[payer_total]"));
        assert!(value["Amount"].get(OPTIONAL_KEY).is_none());
    }

    #[test]
    fn a_nested_schema_is_reached_by_its_keys() {
        let mut value = yaml("get:\n  responses:\n    200:\n      schema:\n        allOf: []\n");
        apply(
            Path::new("v3/pay/transactions/id/{transaction_id}.yaml"),
            &mut value,
        );
        assert_eq!(
            value["get"]["responses"][200]["schema"][OPTIONAL_KEY],
            yaml("[description, notify_url]")
        );
    }

    #[test]
    fn other_files_and_missing_schemas_are_left_alone() {
        let text = "PayerAmount:\n  required: [payer_total]\n";
        let mut value = yaml(text);
        apply(Path::new("definitions/Other.yaml"), &mut value);
        assert_eq!(value, yaml(text));
        let mut value = yaml("Else: {}\n");
        apply(Path::new("definitions/Transaction.yaml"), &mut value);
        assert_eq!(value, yaml("Else: {}\n"));
    }
}
