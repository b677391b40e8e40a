//! The hosts WeChat Pay's operations live on.
//!
//! Most operations, APIv3 and APIv2, are served by `api.mch.weixin.qq.com`
//! ([`Host::Api`]). The Hong Kong and global (cross-border) operations are
//! served by `apihk.mch.weixin.qq.com` ([`Host::HongKong`]), and a handful
//! of APIv2 operations by hosts of their own. Every operation declares its
//! host ([`Endpoint::HOST`](crate::Endpoint::HOST)), so the client sends it
//! to the right place without the caller choosing a base URL per call.

use std::fmt;

/// A host that serves WeChat Pay operations.
///
/// ```
/// use wxpay_core::Host;
///
/// assert_eq!(Host::HongKong.production_url(), "https://apihk.mch.weixin.qq.com");
/// assert_eq!(Host::from_name("apihk.mch.weixin.qq.com"), Some(Host::HongKong));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Host {
    /// `api.mch.weixin.qq.com`: APIv3 and most of APIv2 (the default).
    #[default]
    Api,
    /// `apihk.mch.weixin.qq.com`: the Hong Kong wallet and the global
    /// (cross-border, customs) operations.
    HongKong,
    /// `fraud.mch.weixin.qq.com`: APIv2 risk and real-name operations.
    Fraud,
    /// `payapp.weixin.qq.com`: the APIv2 face-payment SDK credential.
    PayApp,
    /// `payapp.mch.weixin.qq.com`: APIv2 real-name authorisation pages.
    PayAppMch,
}

impl Host {
    /// Every host, in declaration order.
    pub const ALL: [Host; 5] = [
        Host::Api,
        Host::HongKong,
        Host::Fraud,
        Host::PayApp,
        Host::PayAppMch,
    ];

    /// The host's name: `api.mch.weixin.qq.com`, ….
    pub const fn name(self) -> &'static str {
        match self {
            Host::Api => "api.mch.weixin.qq.com",
            Host::HongKong => "apihk.mch.weixin.qq.com",
            Host::Fraud => "fraud.mch.weixin.qq.com",
            Host::PayApp => "payapp.weixin.qq.com",
            Host::PayAppMch => "payapp.mch.weixin.qq.com",
        }
    }

    /// The host's production base URL: `https://` and [`Host::name`].
    pub const fn production_url(self) -> &'static str {
        match self {
            Host::Api => "https://api.mch.weixin.qq.com",
            Host::HongKong => "https://apihk.mch.weixin.qq.com",
            Host::Fraud => "https://fraud.mch.weixin.qq.com",
            Host::PayApp => "https://payapp.weixin.qq.com",
            Host::PayAppMch => "https://payapp.mch.weixin.qq.com",
        }
    }

    /// The host whose [`Host::name`] is `name`, if any.
    pub fn from_name(name: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|host| host.name() == name)
    }

    /// The variant's name as the attribute's `host = …` argument writes it.
    pub const fn variant_name(self) -> &'static str {
        match self {
            Host::Api => "Api",
            Host::HongKong => "HongKong",
            Host::Fraud => "Fraud",
            Host::PayApp => "PayApp",
            Host::PayAppMch => "PayAppMch",
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Host;

    #[test]
    fn names_and_urls_agree() {
        for host in Host::ALL {
            assert_eq!(
                host.production_url(),
                format!("https://{}", host.name()),
                "{host:?}"
            );
            assert_eq!(Host::from_name(host.name()), Some(host));
        }
        assert_eq!(Host::from_name("api2.mch.weixin.qq.com"), None);
        assert_eq!(Host::default(), Host::Api);
    }
}
