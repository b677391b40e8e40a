//! The coupon-stock lifecycle against the sandbox, over real HTTP, on every
//! crypto backend; and every way the sandbox can make an answer suspicious.

use crate::support;

use wxpay::api::types::{
    CouponAvailableTime, FavorStockStatus as StockStatus, FavorStockType as StockType,
    FixedNormalCoupon, StockUseRule,
};
use wxpay::api::v3::marketing::favor::coupon_stocks::{
    Post as CreateStock, PostCouponUseRule as CouponUseRule,
};
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::{
    Get as QueryStock, pause::Post as PauseStock, restart::Post as RestartStock,
    start::Post as StartStock,
};
use wxpay::api::v3::marketing::favor::stocks::Get as ListStocks;
use wxpay::{Client, CryptoBackend, Error, VerifyError};
use wxpay_sandbox::{Faults, Sandbox};

fn create(mchid: &str, out_request_no: &str) -> CreateStock {
    CreateStock {
        stock_name: "测试批次 wxpay".into(),
        comment: Some("integration test".into()),
        belong_merchant: mchid.into(),
        available_begin_time: "2026-12-01T00:00:00+08:00".parse().unwrap(),
        available_end_time: "2026-12-31T23:59:59+08:00".parse().unwrap(),
        stock_use_rule: StockUseRule {
            max_coupons: 100,
            max_amount: 10_000,
            max_amount_by_day: Some(1_000),
            max_coupons_per_user: 1,
            natural_person_limit: false,
            prevent_api_abuse: false,
        },
        pattern_info: None,
        coupon_use_rule: CouponUseRule {
            coupon_available_time: CouponAvailableTime {
                available_begin_time: None,
                available_end_time: None,
                fix_available_time: None,
                second_day_available: None,
                available_time_after_receive: None,
            },
            fixed_normal_coupon: Some(FixedNormalCoupon {
                coupon_amount: 100,
                transaction_minimum: 100,
            }),
            discount_coupon: None,
            exchange_coupon: None,
            goods_tag: None,
            limit_pay: None,
            limit_card: None,
            trade_type: None,
            available_items: None,
            unavailable_items: None,
            available_merchants: None,
            combine_use: None,
        },
        no_cash: false,
        stock_type: StockType::Normal,
        out_request_no: out_request_no.into(),
        ext_info: None,
    }
}

fn api_code(err: &Error) -> (u16, &str) {
    let api = err
        .as_api()
        .unwrap_or_else(|| panic!("expected an API error, got {err:?}"));
    (api.status.as_u16(), api.code.as_str())
}

#[tokio::test]
async fn whole_lifecycle_on_every_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    for &backend in CryptoBackend::available() {
        let client = support::sandbox_client_with(&sandbox, backend);
        let created = client
            .send(create(&mchid, &format!("lifecycle-{}", backend.name())))
            .await
            .expect("create");
        let id = created.stock_id.clone();

        let stock = client
            .send(QueryStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .expect("query");
        assert_eq!(stock.status, Some(StockStatus::Unactivated));
        assert_eq!(stock.stock_name, "测试批次 wxpay");

        let started = client
            .send(StartStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .expect("start");
        assert_eq!(started.stock_id, id);
        assert!(
            started.start_time.as_str().ends_with("+08:00"),
            "{}",
            started.start_time
        );

        // Starting a running stock is a state error.
        let err = client
            .send(StartStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(api_code(&err).0 / 100, 4, "{err}");

        let paused = client
            .send(PauseStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .expect("pause");
        assert_eq!(paused.stock_id, id);
        let err = client
            .send(PauseStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(api_code(&err).0 / 100, 4, "{err}");

        let restarted = client
            .send(RestartStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .expect("restart");
        assert_eq!(restarted.stock_id, id);

        let stock = client
            .send(QueryStock {
                stock_id: id.clone(),
                stock_creator_mchid: mchid.clone(),
            })
            .await
            .unwrap();
        assert_eq!(stock.status, Some(StockStatus::Running));

        let page = client
            .send(ListStocks {
                offset: 0,
                limit: 10,
                stock_creator_mchid: mchid.clone(),
                create_start_time: None,
                create_end_time: None,
                status: Some(StockStatus::Running.to_string()),
            })
            .await
            .expect("list");
        let data = page.data.unwrap_or_default();
        assert!(
            data.iter().any(|s| s.stock_id.as_ref() == Some(&id)),
            "{data:?}"
        );
        assert!(data.iter().all(|s| s.status == Some(StockStatus::Running)));
    }
}

#[tokio::test]
async fn unknown_stocks_bad_fields_and_foreign_creators_are_api_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = support::sandbox_client(&sandbox);
    let mchid = sandbox.credentials().mchid.clone();

    let err = client
        .send(StartStock {
            stock_id: "404404".into(),
            stock_creator_mchid: mchid.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (404, "RESOURCE_NOT_EXISTS"));
    assert!(err.as_api().unwrap().authenticated);

    // A hand-declared request that leaves out required fields.
    #[wxpay::endpoint(POST, "/v3/marketing/favor/coupon-stocks")]
    struct IncompleteCreate {
        stock_name: String,
    }
    let err = client
        .send(IncompleteCreate {
            stock_name: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (400, "PARAM_ERROR"));
    assert!(
        err.as_api()
            .unwrap()
            .field()
            .is_some_and(|f| f.starts_with('/')),
        "{err}"
    );

    // Path values with awkward characters stay one segment and reach the
    // server intact (here: an id that does not exist).
    let err = client
        .send(StartStock {
            stock_id: "a/../b |*中".into(),
            stock_creator_mchid: mchid.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (404, "RESOURCE_NOT_EXISTS"));

    let created = client.send(create(&mchid, "foreign")).await.unwrap();
    let err = client
        .send(StartStock {
            stock_id: created.stock_id,
            stock_creator_mchid: "1234567".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&err).0, 403, "{err}");
}

#[tokio::test]
async fn every_suspicious_answer_is_rejected() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = support::sandbox_client(&sandbox);
    let mchid = sandbox.credentials().mchid.clone();
    let query = || QueryStock {
        stock_id: "1".into(),
        stock_creator_mchid: mchid.clone(),
    };
    let create_one = |n: &str| create(&mchid, n);

    type Expectation = fn(&VerifyError) -> bool;
    let cases: Vec<(&str, Faults, Expectation)> = vec![
        (
            "unsigned",
            Faults {
                unsigned_responses: true,
                ..Faults::default()
            },
            |e| matches!(e, VerifyError::MissingHeader { .. }),
        ),
        (
            "signtest",
            Faults {
                signtest_probe: true,
                ..Faults::default()
            },
            |e| matches!(e, VerifyError::Probe),
        ),
        (
            "tampered",
            Faults {
                tamper_body: true,
                ..Faults::default()
            },
            |e| matches!(e, VerifyError::Mismatch { .. }),
        ),
        (
            "wrong serial",
            Faults {
                wrong_serial: true,
                ..Faults::default()
            },
            |e| matches!(e, VerifyError::UnknownSerial { .. }),
        ),
        (
            "stale",
            Faults {
                clock_offset_secs: -301,
                ..Faults::default()
            },
            |e| {
                matches!(
                    e,
                    VerifyError::Stale {
                        skew_ahead: false,
                        ..
                    }
                )
            },
        ),
        (
            "future",
            Faults {
                clock_offset_secs: 400,
                ..Faults::default()
            },
            |e| {
                matches!(
                    e,
                    VerifyError::Stale {
                        skew_ahead: true,
                        ..
                    }
                )
            },
        ),
    ];
    for (n, (name, faults, expected)) in cases.into_iter().enumerate() {
        sandbox.set_faults(faults);
        let err = client
            .send(create_one(&format!("suspicious-{n}")))
            .await
            .unwrap_err();
        match &err {
            Error::Verification { source, .. } if expected(source) => {}
            other => panic!("{name}: expected a verification error, got {other:?}"),
        }
    }

    // Within the allowed skew, answers are accepted.
    sandbox.set_faults(Faults {
        clock_offset_secs: 250,
        ..Faults::default()
    });
    client
        .send(create_one("skew-ok"))
        .await
        .expect("250 s of skew is tolerated");

    // Error answers are still reported, marked unauthenticated when their
    // signature does not hold.
    sandbox.set_faults(Faults {
        tamper_body: true,
        ..Faults::default()
    });
    let err = client.send(query()).await.unwrap_err();
    if let Some(api) = err.as_api() {
        assert!(!api.authenticated, "{err}");
    }
    sandbox.set_faults(Faults::default());
}

#[tokio::test]
async fn a_request_signed_with_another_key_gets_sign_error() {
    let sandbox = Sandbox::start().await.unwrap();
    let other = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials();
    let wrong = Client::builder()
        .base_url(sandbox.base_url())
        .mchid(&credentials.mchid)
        .merchant_key_pem(
            &credentials.merchant_serial,
            &other.credentials().merchant_private_key_pem,
        )
        .wechatpay_public_key_pem(
            &credentials.public_key_id,
            &credentials.platform_public_key_pem,
        )
        .build()
        .unwrap();
    let err = wrong
        .send(create(&credentials.mchid, "wrong-key"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (401, "SIGN_ERROR"));
    assert!(err.to_string().contains("private key"), "{err}");
}

#[tokio::test]
async fn two_merchants_never_mix_credentials() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let client_a = support::sandbox_client(&a);
    let client_b = support::sandbox_client(&b);
    let (ma, mb) = (a.credentials().mchid.clone(), b.credentials().mchid.clone());
    let (ra, rb) = tokio::join!(
        client_a.send(create(&ma, "a")),
        client_b.send(create(&mb, "b"))
    );
    ra.expect("a's client works with a");
    rb.expect("b's client works with b");

    // Pointed at the other merchant's server, each client is refused.
    let cross = Client::builder()
        .base_url(b.base_url())
        .mchid(&ma)
        .merchant_key_pem(
            &a.credentials().merchant_serial,
            &a.credentials().merchant_private_key_pem,
        )
        .wechatpay_public_key_pem(
            &b.credentials().public_key_id,
            &b.credentials().platform_public_key_pem,
        )
        .build()
        .unwrap();
    let err = cross.send(create(&ma, "cross")).await.unwrap_err();
    assert_eq!(api_code(&err).0, 401, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_is_shared_across_tasks() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = support::sandbox_client(&sandbox);
    let mchid = sandbox.credentials().mchid.clone();
    let mut tasks = Vec::new();
    for n in 0..24 {
        let (client, mchid) = (client.clone(), mchid.clone());
        tasks.push(tokio::spawn(async move {
            let created = client.send(create(&mchid, &format!("shared-{n}"))).await?;
            client
                .send(StartStock {
                    stock_id: created.stock_id,
                    stock_creator_mchid: mchid,
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every concurrent call succeeds");
    }
}
