//! `wxpay::Endpoint` is an open trait: an implementation written by hand
//! renders exactly what `#[wxpay::endpoint]` generates for the same
//! declaration.

use serde::Serialize;
use wxpay::{Body, BuildError, Endpoint, Method, Target};

/// The answer both versions decode into.
#[derive(Debug, serde::Deserialize)]
pub struct RefundAnswer {
    /// 退款单号.
    pub refund_id: String,
}

/// 申请退款, declared with the attribute: a path parameter, a query
/// parameter and a body.
#[wxpay::endpoint(POST, "/v3/merchants/<sub_mchid>/refunds/<out_trade_no>", response = RefundAnswer)]
#[derive(Clone)]
pub struct Generated {
    /// Path.
    pub sub_mchid: String,
    /// Path.
    pub out_trade_no: String,
    /// Query.
    #[wxpay(query)]
    pub notify: Option<bool>,
    /// Body.
    pub out_refund_no: String,
    /// Body, left out when `None`.
    pub reason: Option<String>,
    /// Body.
    pub amount: u64,
}

/// The same operation, implemented by hand.
#[derive(Clone)]
pub struct Handwritten {
    /// Path.
    pub sub_mchid: String,
    /// Path.
    pub out_trade_no: String,
    /// Query.
    pub notify: Option<bool>,
    /// Body.
    pub out_refund_no: String,
    /// Body, left out when `None`.
    pub reason: Option<String>,
    /// Body.
    pub amount: u64,
}

impl Endpoint for Handwritten {
    const METHOD: Method = Method::Post;
    const PATH_TEMPLATE: &'static str = "/v3/merchants/{sub_mchid}/refunds/{out_trade_no}";
    type Response = RefundAnswer;

    fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
        out.push_literal("/v3/merchants/");
        out.push_segment("sub_mchid", &self.sub_mchid)?;
        out.push_literal("/refunds/");
        out.push_segment("out_trade_no", &self.out_trade_no)?;
        if let Some(notify) = self.notify {
            out.push_query_pair("notify", if notify { "true" } else { "false" });
        }
        Ok(())
    }

    fn body(&self) -> Result<Body, BuildError> {
        #[derive(Serialize)]
        struct Json<'a> {
            out_refund_no: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<&'a str>,
            amount: u64,
        }
        Body::json(&Json {
            out_refund_no: &self.out_refund_no,
            reason: self.reason.as_deref(),
            amount: self.amount,
        })
    }
}

impl From<Generated> for Handwritten {
    fn from(g: Generated) -> Self {
        Handwritten {
            sub_mchid: g.sub_mchid,
            out_trade_no: g.out_trade_no,
            notify: g.notify,
            out_refund_no: g.out_refund_no,
            reason: g.reason,
            amount: g.amount,
        }
    }
}

fn render<E: Endpoint>(endpoint: &E) -> Result<(String, Vec<u8>), BuildError> {
    let mut target = Target::new();
    endpoint.render_target(&mut target)?;
    Ok((target.into_string(), endpoint.body()?.as_bytes().to_vec()))
}

fn same_response<A, B>()
where
    A: Endpoint,
    B: Endpoint<Response = A::Response>,
{
}

#[test]
fn constants_and_response_match() {
    assert_eq!(Generated::METHOD, Handwritten::METHOD);
    assert_eq!(Generated::PATH_TEMPLATE, Handwritten::PATH_TEMPLATE);
    same_response::<Generated, Handwritten>();
}

#[test]
fn targets_and_bodies_match() {
    let base = Generated {
        sub_mchid: "1900000109".into(),
        out_trade_no: "1217752501201407033233368018".into(),
        notify: None,
        out_refund_no: "R1".into(),
        reason: None,
        amount: 1,
    };
    let cases = [
        base.clone(),
        Generated {
            notify: Some(true),
            reason: Some("商品已售完".into()),
            ..base.clone()
        },
        Generated {
            sub_mchid: "a/../b".into(),
            out_trade_no: "with space|*".into(),
            notify: Some(false),
            out_refund_no: "R \"quoted\" & more".into(),
            amount: u64::MAX,
            ..base.clone()
        },
        Generated {
            out_trade_no: String::new(),
            ..base.clone()
        },
    ];
    for generated in cases {
        let handwritten = Handwritten::from(generated.clone());
        let (from_macro, by_hand) = (render(&generated), render(&handwritten));
        match (&from_macro, &by_hand) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("one failed and the other did not: {from_macro:?} / {by_hand:?}"),
        }
    }
}

#[test]
fn an_example_rendering() {
    let generated = Generated {
        sub_mchid: "1900000109".into(),
        out_trade_no: "T 1".into(),
        notify: Some(true),
        out_refund_no: "R1".into(),
        reason: None,
        amount: 88,
    };
    let (target, body) = render(&generated).unwrap();
    assert_eq!(target, "/v3/merchants/1900000109/refunds/T%201?notify=true");
    assert_eq!(body, br#"{"out_refund_no":"R1","amount":88}"#);
}
