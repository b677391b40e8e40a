//! The bill download stream: the decoder behind `Client::download_bill`
//! (gzip sniffing, chunk-by-chunk decompression, SHA-1) fed a body in
//! arbitrary chunk splits, draining its output as the file download does.
//! The outcome never depends on the split; what comes out hashes to the
//! reported SHA-1 and size; a body without the gzip magic comes out
//! unchanged; an accepted gzip body decodes as flate2 decodes it whole;
//! and a body the target gzipped itself (one or two members) decodes back
//! to the fuzzer's bytes, while a truncated one is refused. After a
//! failure nothing more is accepted. Within small `BillLimits` (from the
//! input), a body is accepted only within them, else stopped with the
//! limit it went past, reported consistently, nothing handed out past it.
//! Input: mode byte (bits 0-1: chunk sizes; bit 2: gzip here; bit 3: two
//! members, or the limits), split seed byte, body.
#![no_main]

use std::io::{Read as _, Write as _};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use wxpay_core::__fuzz::BillDecoder;
use wxpay_core::bill::{BillLimit, BillLimits, DownloadError};

/// What one decode produced: the bill, its SHA-1, its size, gzip or not.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    bill: Vec<u8>,
    sha1: String,
    len: u64,
    compressed: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes `body` pushed in chunks of the sizes `sizes` yields, draining
/// after every chunk when `drain`.
fn decode(body: &[u8], mut sizes: impl FnMut() -> usize, drain: bool) -> Option<Outcome> {
    let mut decoder = BillDecoder::new();
    let mut bill = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(sizes().clamp(1, rest.len()));
        rest = tail;
        if decoder.push(chunk).is_err() {
            // Failed once, failed for good.
            assert!(decoder.push(b"more").is_err());
            assert!(decoder.drain().is_empty());
            assert!(decoder.finish().is_err());
            return None;
        }
        if drain {
            bill.extend(decoder.drain());
        }
    }
    let decoded = decoder.finish().ok()?;
    bill.extend(decoded.rest);
    assert_eq!(
        decoded.sha1,
        hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, &bill).as_ref())
    );
    assert_eq!(decoded.len, bill.len() as u64);
    Some(Outcome {
        bill,
        sha1: decoded.sha1,
        len: decoded.len,
        compressed: decoded.compressed,
    })
}

/// The body decoded within small limits chosen by the input: accepted
/// only within them (and then as without limits), stopped with the limit
/// it went past, consistently reported, having handed out nothing past
/// it; corrupt only where it is corrupt without limits too.
fn limited(body: &[u8], mode: u8, seed: u8, mut sizes: impl FnMut() -> usize) {
    let max_bytes = 1 + u64::from(seed) * 64;
    let max_ratio = 1 + u64::from(mode >> 4);
    let grace = u64::from(seed) * 16;
    let limits = BillLimits::new()
        .with_max_bytes(max_bytes)
        .with_max_ratio(max_ratio)
        .with_ratio_grace_bytes(grace);
    let unlimited = decode(body, || usize::MAX, false);

    let mut decoder = BillDecoder::with_limits(limits);
    let mut drained = 0u64;
    let mut rest = body;
    let mut result = Ok(());
    while !rest.is_empty() && result.is_ok() {
        let (chunk, tail) = rest.split_at(sizes().clamp(1, rest.len()));
        rest = tail;
        result = decoder.try_push(chunk);
        drained += decoder.drain().len() as u64;
    }
    let result = result.and_then(|()| decoder.try_finish());
    match result {
        Ok(decoded) => {
            let len = drained + decoded.rest.len() as u64;
            assert_eq!(len, decoded.len);
            assert!(len <= max_bytes && body.len() as u64 <= max_bytes);
            assert!(len <= grace || len <= max_ratio * body.len() as u64);
            let unlimited = unlimited.expect("accepted within limits, accepted without");
            assert_eq!(decoded.len, unlimited.len);
            assert_eq!(decoded.sha1, unlimited.sha1);
        }
        Err(DownloadError::LimitExceeded {
            limit,
            received,
            decompressed,
        }) => {
            assert!(
                drained <= max_bytes,
                "{drained} bytes handed out past {max_bytes}"
            );
            assert!(drained <= decompressed);
            assert!(received <= body.len() as u64);
            match limit {
                BillLimit::DownloadSize {
                    max_bytes: m,
                    announced: None,
                } => assert!(m == max_bytes && received > max_bytes),
                BillLimit::Size { max_bytes: m } => {
                    assert!(m == max_bytes && decompressed > max_bytes);
                }
                BillLimit::Ratio {
                    max_ratio: r,
                    grace_bytes: g,
                } => assert!(
                    r == max_ratio
                        && g == grace
                        && decompressed > grace
                        && decompressed > max_ratio * received
                ),
                other => panic!("unexpected limit {other:?}"),
            }
        }
        Err(DownloadError::Decompress(error)) => {
            assert!(unlimited.is_none(), "refused only with limits: {error}");
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fuzz_target!(|data: &[u8]| {
    let [mode, seed, body @ ..] = data else {
        return;
    };
    let (mode, seed) = (*mode, *seed);
    let max_chunk = [1usize, 3, 16, 4096][usize::from(mode & 3)];
    let mut state = u32::from(seed) | 0x100;
    let sizes = move || {
        // xorshift32: a split the fuzzer steers through `seed`.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        1 + (state as usize) % max_chunk
    };

    if mode & 12 == 8 {
        limited(body, mode, seed, sizes);
    } else if mode & 4 == 0 {
        // The body as downloaded.
        let whole = decode(body, || usize::MAX, false);
        let split = decode(body, sizes, true);
        assert_eq!(whole, split, "the chunk split changed the outcome");
        let gzip_magic = body.starts_with(&[0x1f, 0x8b]);
        match whole {
            Some(outcome) if !gzip_magic => {
                assert!(!outcome.compressed);
                assert_eq!(outcome.bill, body);
            }
            Some(outcome) => {
                assert!(outcome.compressed);
                let mut reference = Vec::new();
                MultiGzDecoder::new(body)
                    .read_to_end(&mut reference)
                    .expect("flate2 reads what the decoder accepted");
                assert_eq!(outcome.bill, reference);
            }
            None => assert!(gzip_magic, "a body that is not gzip was refused"),
        }
    } else {
        // The fuzzer's bytes as the bill, gzipped here: one member, or two
        // split at the seed, at a level from the mode.
        let level = u32::from(mode >> 4) % 10;
        let mut compressed = if mode & 8 == 0 {
            gzip(body, level)
        } else {
            let (a, b) = body.split_at(usize::from(seed).min(body.len()));
            let mut both = gzip(a, level);
            both.extend(gzip(b, level));
            both
        };
        let outcome = decode(&compressed, sizes, true).expect("a gzip body the target made");
        assert!(outcome.compressed);
        assert_eq!(outcome.bill, body);
        // One member cut short (its 10-byte header kept) is refused.
        if mode & 8 == 0 {
            let cut = 10 + usize::from(seed) % (compressed.len() - 10);
            compressed.truncate(cut);
            assert_eq!(
                decode(&compressed, || 7, true),
                None,
                "gzip cut at {cut} was accepted"
            );
        }
    }
});
