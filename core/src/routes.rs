//! Where requests go, resolved once when a client is built. APIv3's
//! [`Client`](crate::Client) and APIv2's [`V2Client`](crate::v2::V2Client)
//! share the rule, which lives only here:
//!
//! - the base URL serves [`Host::Api`]; on WeChat Pay's production URL,
//!   every other host goes to its own production URL, while a base URL
//!   elsewhere (a sandbox, a proxy) takes every host's operations;
//! - a URL given for a host (`.host_url(host, url)`) overrides both;
//! - a client built for one host (`.home_host(host)`) refuses operations
//!   served by the others;
//! - attempts to the API host fail over to the backup URL (WeChat Pay's
//!   backup domain when on production, unless configured otherwise); the
//!   other hosts have no backup domain;
//! - every URL is scheme, host and port only (a path prefix would not be
//!   covered by the signature), and plain `http://` is refused to anything
//!   but this machine unless the builder allowed it.

use reqwest::Url;

use crate::host::Host;
use crate::target::BuildError;

/// WeChat Pay's production API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// WeChat Pay's backup domain: where a client on [`PRODUCTION_BASE_URL`]
/// sends its next attempt after a network failure.
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";

/// Where attempts fail over to.
#[derive(Debug, Default, Clone)]
pub(crate) enum Backup {
    /// [`BACKUP_BASE_URL`] on production, nowhere otherwise.
    #[default]
    Default,
    /// This base URL.
    Url(String),
    /// Nowhere.
    Disabled,
}

/// What a client builder was told about where requests go.
pub(crate) struct RouteSettings<'a> {
    /// The base URL, if not production's.
    pub(crate) base_url: Option<&'a str>,
    /// URLs given to hosts of their own, the last one for a host winning.
    pub(crate) host_urls: &'a [(Host, String)],
    /// The one host the client serves, if limited to one.
    pub(crate) home_host: Option<Host>,
    /// Where attempts to the API host fail over to.
    pub(crate) backup: &'a Backup,
    /// Whether plain `http://` may go elsewhere than this machine.
    pub(crate) allow_insecure_http: bool,
}

/// Every host's URL, the home host and the backup URL, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    base_url: Url,
    /// Every host's URL, in [`Host::ALL`]'s order.
    host_urls: Vec<(Host, Url)>,
    home_host: Option<Host>,
    backup: Option<Url>,
}

impl Routes {
    /// Resolves `settings`; `None` after adding to `problems` what is
    /// wrong with them (every problem, not only the first).
    pub(crate) fn resolve(
        settings: &RouteSettings<'_>,
        problems: &mut Vec<String>,
    ) -> Option<Routes> {
        let base_url = parse_base_url(
            "base URL",
            settings.base_url.unwrap_or(PRODUCTION_BASE_URL),
            problems,
        );
        let on_production = base_url
            .as_ref()
            .is_some_and(|url| is_host(url, PRODUCTION_BASE_URL));
        let custom_base = settings.base_url.is_some() && !on_production;
        let mut host_urls = Vec::new();
        let mut given_urls = Vec::new();
        for host in Host::ALL {
            let given = settings.host_urls.iter().rev().find(|(h, _)| *h == host);
            let what = format!("URL of host {host}");
            let url = match given {
                Some((_, url)) => parse_base_url(&what, url, problems),
                None if host == Host::Api || custom_base => base_url.clone(),
                None => parse_base_url(&what, host.production_url(), problems),
            };
            if let Some(url) = url {
                if given.is_some() {
                    given_urls.push((what, url.clone()));
                }
                host_urls.push((host, url));
            }
        }
        let backup = match settings.backup {
            Backup::Default if on_production => {
                parse_base_url("backup base URL", BACKUP_BASE_URL, problems)
            }
            Backup::Default | Backup::Disabled => None,
            Backup::Url(url) => parse_base_url("backup base URL", url, problems),
        };

        // Each URL checked once, where it was given: the others are the
        // base URL or https production URLs.
        let mut checked: Vec<(String, &Url)> = Vec::new();
        checked.extend(base_url.iter().map(|url| ("base URL".to_owned(), url)));
        checked.extend(backup.iter().map(|url| ("backup base URL".to_owned(), url)));
        checked.extend(given_urls.iter().map(|(what, url)| (what.clone(), url)));
        if !settings.allow_insecure_http {
            for (what, url) in checked {
                if url.scheme() == "http" && !is_loopback(url) {
                    problems.push(format!(
                        "{what} `{}` is plain http to `{}`, which is not this machine: requests and answers would travel unencrypted; use https://, or, for a test rig only, call .allow_insecure_http(true)",
                        url.as_str().trim_end_matches('/'),
                        url.host_str().unwrap_or_default()
                    ));
                }
            }
        }

        let base_url = base_url?;
        if host_urls.len() != Host::ALL.len() {
            return None;
        }
        Some(Routes {
            base_url,
            host_urls,
            home_host: settings.home_host,
            backup,
        })
    }

    /// The URL requests to `host` go to, or why there is none.
    pub(crate) fn route(&self, host: Host) -> Result<&Url, BuildError> {
        if let Some(home) = self.home_host
            && home != host
        {
            return Err(BuildError::HostNotServed { host, home });
        }
        Ok(self
            .host_urls
            .iter()
            .find(|(candidate, _)| *candidate == host)
            .map_or(&self.base_url, |(_, url)| url))
    }

    /// Where attempts of a request to `host` fail over to: the backup URL
    /// for [`Host::Api`], nowhere for the others (WeChat Pay has no backup
    /// domain for them).
    pub(crate) fn backup_for(&self, host: Host) -> Option<&Url> {
        match host {
            Host::Api => self.backup.as_ref(),
            _ => None,
        }
    }

    /// The base URL.
    pub(crate) fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The backup URL, if any.
    pub(crate) fn backup_url(&self) -> Option<&Url> {
        self.backup.as_ref()
    }

    /// The one host the client serves, if it was built for one.
    pub(crate) fn home_host(&self) -> Option<Host> {
        self.home_host
    }

    /// Whether the base URL is WeChat Pay's (production or backup), where
    /// retrying by default is worth it.
    pub(crate) fn on_wechatpay(&self) -> bool {
        is_host(&self.base_url, PRODUCTION_BASE_URL) || is_host(&self.base_url, BACKUP_BASE_URL)
    }
}

/// A URL as the clients print it: without the trailing `/`.
pub(crate) fn display(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// Parses a base URL: scheme, host and port only. `what` names the setting
/// in the problem reported otherwise.
fn parse_base_url(what: &str, base_url: &str, problems: &mut Vec<String>) -> Option<Url> {
    match Url::parse(base_url) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none() =>
        {
            Some(url)
        }
        Ok(_) => {
            problems.push(format!(
                "{what} `{base_url}` must be scheme, host and port only (like https://api.mch.weixin.qq.com): a path prefix would not be covered by the signature"
            ));
            None
        }
        Err(error) => {
            problems.push(format!("{what} `{base_url}` is not a URL: {error}"));
            None
        }
    }
}

/// Whether `url` is the host of `known` (scheme, host and port alike).
fn is_host(url: &Url, known: &str) -> bool {
    Url::parse(known).is_ok_and(|known| known.origin() == url.origin())
}

/// Whether `url`'s host is this machine: a loopback address (`127.0.0.0/8`,
/// `::1`, an IPv4-mapped loopback) or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
        }
        Err(_) => {
            let name = bare.strip_suffix('.').unwrap_or(bare);
            name.eq_ignore_ascii_case("localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(settings: RouteSettings<'_>) -> Result<Routes, Vec<String>> {
        let mut problems = Vec::new();
        match Routes::resolve(&settings, &mut problems) {
            Some(routes) if problems.is_empty() => Ok(routes),
            _ => Err(problems),
        }
    }

    fn settings<'a>(
        base_url: Option<&'a str>,
        host_urls: &'a [(Host, String)],
    ) -> RouteSettings<'a> {
        RouteSettings {
            base_url,
            host_urls,
            home_host: None,
            backup: &Backup::Default,
            allow_insecure_http: false,
        }
    }

    #[test]
    fn production_sends_each_host_to_its_own_url_and_fails_over_on_the_api_host() {
        let routes = resolve(settings(None, &[])).expect("production resolves");
        for host in Host::ALL {
            assert_eq!(
                display(routes.route(host).expect("served")),
                host.production_url()
            );
        }
        assert_eq!(
            routes.backup_for(Host::Api).map(display),
            Some(BACKUP_BASE_URL)
        );
        assert_eq!(routes.backup_for(Host::HongKong), None);
        assert!(routes.on_wechatpay());
    }

    #[test]
    fn a_sandbox_takes_every_host_unless_one_has_its_own_url() {
        let own = [(Host::HongKong, "http://127.0.0.1:9000".to_owned())];
        let routes = resolve(settings(Some("http://127.0.0.1:8080"), &own)).expect("resolves");
        assert_eq!(
            display(routes.route(Host::Api).expect("served")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            display(routes.route(Host::HongKong).expect("served")),
            "http://127.0.0.1:9000"
        );
        assert_eq!(routes.backup_url(), None, "no backup off production");
        assert!(!routes.on_wechatpay());
    }

    #[test]
    fn a_home_host_refuses_the_others() {
        let mut limited = settings(None, &[]);
        limited.home_host = Some(Host::HongKong);
        let routes = resolve(limited).expect("resolves");
        assert!(routes.route(Host::HongKong).is_ok());
        assert!(matches!(
            routes.route(Host::Api),
            Err(BuildError::HostNotServed {
                host: Host::Api,
                home: Host::HongKong
            })
        ));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let own = [(Host::HongKong, "http://example.org".to_owned())];
        let backup = Backup::Url("https://example.com/prefix".to_owned());
        let mut bad = settings(Some("http://example.com"), &own);
        bad.backup = &backup;
        let problems = resolve(bad).expect_err("refused");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("base URL `http://example.com` is plain http"))
        );
        assert!(problems.iter().any(|p| p.contains(
            "backup base URL `https://example.com/prefix` must be scheme, host and port only"
        )));
        let hong_kong = format!(
            "URL of host {} `http://example.org` is plain http",
            Host::HongKong
        );
        assert!(
            problems.iter().any(|p| p.contains(&hong_kong)),
            "{problems:?}"
        );

        let mut allowed = settings(Some("http://example.com"), &own);
        allowed.allow_insecure_http = true;
        assert!(resolve(allowed).is_ok());
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://localhost:1",
            "http://LOCALHOST.",
            "http://[::1]:80",
            "http://[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback(&Url::parse(url).expect("a URL")), "{url}");
        }
        for url in [
            "http://example.com",
            "http://10.0.0.1",
            "http://128.0.0.1",
            "http://[::2]",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
        ] {
            assert!(!is_loopback(&Url::parse(url).expect("a URL")), "{url}");
        }
    }
}
