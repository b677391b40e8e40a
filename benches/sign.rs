//! Sign-and-build of one request, on every compiled crypto backend, side by
//! side: `cargo bench -p wxpay --features rust-crypto --bench sign`.
//!
//! The key is a fresh RSA-2048 key from the sandbox's credential generator,
//! so the benchmark needs no files.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;
use wxpay::{Client, CryptoBackend};
use wxpay_sandbox::Sandbox;

fn sign_and_build(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let sandbox = runtime
        .block_on(Sandbox::start())
        .expect("the sandbox starts");
    let credentials = sandbox.credentials();
    let endpoint = StartStock {
        stock_id: "98065001".into(),
        stock_creator_mchid: "1900009191".into(),
    };

    let mut group = c.benchmark_group("sign_and_build");
    for &backend in CryptoBackend::available() {
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .mchid(&credentials.mchid)
            .merchant_key_pem(
                &credentials.merchant_serial,
                &credentials.merchant_private_key_pem,
            )
            .wechatpay_public_key_pem(
                &credentials.public_key_id,
                &credentials.platform_public_key_pem,
            )
            .crypto_backend(backend)
            .build()
            .expect("a client");
        group.bench_function(backend.name(), |b| {
            b.iter(|| {
                client
                    .prepare(black_box(&endpoint))
                    .expect("the request builds")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sign_and_build);
criterion_main!(benches);
