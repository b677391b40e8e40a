//! The catalogue's old type paths keep working now that each feature has
//! one type per shape (its `types` module): a sample of the names the
//! operations' modules had for their own copies, used the ways a caller
//! may have used them (a struct literal, an enum variant, a pattern, a
//! constructor), and shown to be the very same type under both names.

#![cfg(feature = "pay")]

use std::any::TypeId;

use wxpay::api::v3::pay::partner::transactions::{app, app_with_contract, codepay};
use wxpay::api::v3::pay::transactions as direct;
use wxpay::api::v3::pay::types;

fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

#[test]
fn copies_of_one_shape_are_one_type() {
    // The order amount of two partner operations: two structs once.
    assert!(same::<app_with_contract::PostAmount, codepay::PostAmount>());
    assert!(same::<codepay::PostAmount, types::Amount>());
    // The payer's identity and its type, nested two levels down.
    assert!(same::<app::PostPayerIdentity, types::Identity>());
    assert!(same::<app::PostPayerIdentityType, types::PayerIdentityType>());
    // An answer several operations give.
    assert!(same::<app::PostResponse, app_with_contract::PostResponse>());
    // Different shapes stay different types.
    assert!(!same::<app::PostPayer, codepay::PostPayer>());
}

#[test]
fn old_names_still_build_and_match_values() {
    // A struct literal through the old name.
    let amount = codepay::PostAmount {
        total: 100,
        currency: Some("CNY".into()),
    };
    // The same value through the shared name, built with its constructor.
    assert_eq!(amount, types::Amount::new(100).with_currency("CNY"));

    // Enum variants and patterns through the old name.
    let kind = app::PostPayerIdentityType::Idcard;
    assert!(matches!(kind, types::PayerIdentityType::Idcard));
    match kind {
        app::PostPayerIdentityType::Idcard => {}
        other => panic!("{other}"),
    }
    assert_eq!(kind.as_str(), "IDCARD");

    // A request still names its members' old types.
    let order = direct::jsapi::Post::new(
        "wxd678efh567hg6787",
        "1230000109",
        "d",
        "o-1",
        wxpay::api::types::Amount::new(1),
        "https://example.com/n",
        direct::jsapi::PostPayer::new("openid"),
    );
    let payer: &direct::jsapi::PostPayer = &order.payer;
    assert_eq!(payer.openid, "openid");
}
