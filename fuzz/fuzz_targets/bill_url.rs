//! The verbatim bill `download_url`: how `Client::download_bill` splits a
//! URL into what it sends and the request target it signs, and its
//! plain-http rule. Never a panic; an accepted URL is http(s) with a host,
//! its target is a literal suffix of the text (fragment dropped), visible
//! ASCII starting with `/`, and exactly the path and query the parsed URL
//! sends; the parsed URL's own text is accepted again with the same target;
//! plain http passes only to this machine unless allowed; refusals are
//! `DownloadError::InvalidUrl` and never quote the query's token.
//! Input: a flags byte (bit 0: allow insecure http), then the URL.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use wxpay_core::__fuzz::{check_download_scheme, verbatim_url};
use wxpay_core::bill::DownloadError;

/// Whether `host` (as the URL parser printed it) is this machine,
/// decided here without the client's code.
fn loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.octets()[0] == 127,
        Ok(IpAddr::V6(ip)) => {
            ip == std::net::Ipv6Addr::LOCALHOST
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.octets()[0] == 127)
        }
        Err(_) => bare == "localhost" || bare == "localhost.",
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let allow_insecure_http = flags & 1 != 0;
    let before_fragment = text.split_once('#').map_or(&*text, |(before, _)| before);

    match verbatim_url(&text) {
        Ok((url, target)) => {
            let scheme = text.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
            assert!(
                matches!(scheme.as_deref(), Some("http" | "https")),
                "{text:?}"
            );
            assert_eq!(Some(url.scheme()), scheme.as_deref());
            let host = url.host_str().expect("an http(s) URL has a host");
            assert!(!host.is_empty());
            assert!(target.starts_with('/'), "{target:?}");
            assert!(
                target.bytes().all(|b| b.is_ascii_graphic() && b != b'#'),
                "{target:?} holds bytes that would be encoded"
            );
            assert!(
                before_fragment.ends_with(&target),
                "{target:?} is not verbatim in {text:?}"
            );
            let sent = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            assert_eq!(sent, target);

            let (again, again_target) =
                verbatim_url(url.as_str()).expect("the parsed URL's own text is accepted");
            assert_eq!(again_target, target);
            assert_eq!(again, url);

            match check_download_scheme(&url, allow_insecure_http) {
                Ok(()) => assert!(
                    url.scheme() == "https" || allow_insecure_http || loopback(host),
                    "plain http to {host:?} passed"
                ),
                Err(DownloadError::InvalidUrl { reason }) => {
                    assert!(url.scheme() == "http" && !allow_insecure_http && !loopback(host));
                    assert!(!reason.contains(&target), "the refusal quotes the target");
                }
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        Err(DownloadError::InvalidUrl { reason }) => {
            // The query (a download token) is never shown.
            if let Some((_, query)) = before_fragment.split_once('?')
                && let Some(at) = query.find("token=")
                && query.len() >= at + 10
            {
                assert!(
                    !reason.contains(query),
                    "the refusal quotes the query: {reason}"
                );
            }
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
});
