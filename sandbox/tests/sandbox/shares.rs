//! Fault shares and latency: probabilities per request, drawn once per
//! knob, and injected error answers signed like real ones.

use std::time::{Duration, Instant};

use wxpay_sandbox::Faults;

use crate::common::{Merchant, sandbox};

fn list_target(merchant: &Merchant) -> String {
    format!(
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={}",
        merchant.mchid()
    )
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let latency = Duration::from_millis(800);
    sandbox.set_faults(Faults {
        latency_ms: 800,
        ..Faults::default()
    });
    for _ in 0..2 {
        let started = Instant::now();
        let answer = merchant.get(&list_target(&merchant)).await;
        assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
        assert_eq!(answer.status, 200);
        answer.assert_verified(sandbox.credentials());
    }
    sandbox.set_faults(Faults::default());
    let started = Instant::now();
    merchant.get(&list_target(&merchant)).await;
    assert!(started.elapsed() < latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_full_share_injects_every_time_and_a_zero_share_never() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();

    sandbox.set_faults(Faults {
        share_429: 1.0,
        ..Faults::default()
    });
    for _ in 0..10 {
        let json = merchant.get(&list_target(&merchant)).await.assert_error(
            credentials,
            429,
            "FREQUENCY_LIMITED",
        );
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("injected"))
        );
    }
    sandbox.set_faults(Faults {
        share_500: 1.0,
        ..Faults::default()
    });
    for _ in 0..10 {
        let json = merchant.get(&list_target(&merchant)).await.assert_error(
            credentials,
            500,
            "SYSTEM_ERROR",
        );
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("injected"))
        );
    }
    // Nothing happened on the server: an injected error never runs the
    // request.
    sandbox.set_faults(Faults {
        share_500: 1.0,
        ..Faults::default()
    });
    let answer = merchant
        .post(
            "/v3/marketing/favor/coupon-stocks",
            &crate::common::stock_body(merchant.mchid(), "injected"),
        )
        .await;
    assert_eq!(answer.status, 500);
    sandbox.set_faults(Faults::default());
    let listed = merchant.get(&list_target(&merchant)).await.json();
    assert_eq!(listed["total_count"], 0, "{listed}");

    sandbox.set_faults(Faults {
        share_429: 0.0,
        share_500: 0.0,
        signtest_share: 0.0,
        unsigned_share: 0.0,
        ..Faults::default()
    });
    for _ in 0..20 {
        let answer = merchant.get(&list_target(&merchant)).await;
        assert_eq!(answer.status, 200);
        answer.assert_verified(credentials);
    }
}

#[tokio::test]
async fn signature_shares_probe_or_drop_the_signature() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        signtest_share: 1.0,
        ..Faults::default()
    });
    let answer = merchant.get(&list_target(&merchant)).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("wechatpay-signature")
            .is_some_and(|s| s.starts_with("WECHATPAY/SIGNTEST/"))
    );
    sandbox.set_faults(Faults {
        unsigned_share: 1.0,
        ..Faults::default()
    });
    let answer = merchant.get(&list_target(&merchant)).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("wechatpay-signature").is_none());
    assert!(answer.header("request-id").is_some());
}

#[tokio::test]
async fn a_partial_share_hits_about_that_often() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        share_500: 0.3,
        signtest_share: 0.5,
        ..Faults::default()
    });
    let target = list_target(&merchant);
    let (mut errors, mut probes, mut fine) = (0, 0, 0);
    for _ in 0..300 {
        let answer = merchant.get(&target).await;
        let probe = answer
            .header("wechatpay-signature")
            .is_some_and(|s| s.starts_with("WECHATPAY/SIGNTEST/"));
        match answer.status {
            500 => errors += 1,
            200 => fine += 1,
            other => panic!("unexpected status {other}"),
        }
        if probe {
            probes += 1;
        }
    }
    // 300 draws at 0.3: mean 90, standard deviation about 8; at 0.5:
    // mean 150, about 9. Five standard deviations either way.
    assert!((50..=130).contains(&errors), "{errors} errors of 300");
    assert!((105..=195).contains(&probes), "{probes} probes of 300");
    assert_eq!(errors + fine, 300);
}
