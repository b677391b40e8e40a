//! [`Faults`]: deliberate misbehaviour, its JSON form (the control
//! endpoint's `GET`/`PUT /_sandbox/faults`), its validation, and the
//! per-request dice roll that turns shares into decisions.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::SandboxError;

/// Deliberate misbehaviour, to test how a client copes. Set with
/// [`Sandbox::set_faults`](crate::Sandbox::set_faults) or
/// `PUT /_sandbox/faults`; the default is a well-behaved server.
///
/// The `*_share` fields are probabilities from `0.0` (never) to `1.0`
/// (every request): each request draws once per share, independently. A
/// `bool` fault is the same as its share at `1.0`.
///
/// Faults apply to the simulated API only, never to the control endpoint
/// (`/_sandbox/…`); callbacks only see
/// [`callback_signtest_share`](Faults::callback_signtest_share). For one
/// request, in this order:
/// [`latency_ms`](Faults::latency_ms) is waited; then
/// [`status_override`](Faults::status_override), else a
/// [`share_429`](Faults::share_429) hit, else a
/// [`share_500`](Faults::share_500) hit, answers at once without running
/// the request (nothing changes on the server, so a retry is safe);
/// otherwise the request is served; last the answer is signed as the
/// signing faults say.
///
/// As JSON (the control endpoint), every field is optional (missing means
/// the default) and unknown fields are refused; `status_override` is
/// `null` or `{"status":500,"code":"SYSTEM_ERROR","message":"…"}`.
#[derive(Default, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer 2xx responses without any `Wechatpay-*` signature header
    /// (errors stay signed; `Request-ID` is always sent).
    pub unsigned_responses: bool,
    /// The share of 2xx responses sent unsigned, as with
    /// [`unsigned_responses`](Faults::unsigned_responses).
    pub unsigned_share: f64,
    /// Send `Wechatpay-Signature: WECHATPAY/SIGNTEST/<base64 garbage>`, the
    /// deliberately invalid probe WeChat Pay sometimes sends.
    pub signtest_probe: bool,
    /// The share of signed responses that carry a SIGNTEST probe instead
    /// of their signature, as with [`signtest_probe`](Faults::signtest_probe).
    pub signtest_share: f64,
    /// Shift `Wechatpay-Timestamp` by this many seconds (the signature
    /// covers the shifted value). Requests are still checked against the
    /// real clock.
    pub clock_offset_secs: i64,
    /// Sign the body, then send it with one byte changed (the last ASCII
    /// letter or digit, so JSON stays JSON; an empty body becomes `" "`).
    pub tamper_body: bool,
    /// Announce a `Wechatpay-Serial` the client cannot know: the public key
    /// id or certificate serial that signed, with its last digit or
    /// upper-case hex letter changed (`0`→`1`, …, `9`→`0`, `A`→`B`, …,
    /// `F`→`A`); the signature itself is valid.
    pub wrong_serial: bool,
    /// Answer every request, before any check and whatever the route, with
    /// this status and `{"code","message"}` (signed like any answer). A
    /// status outside 200..=599 is sent as 500.
    #[serde(with = "status_override_json")]
    pub status_override: Option<(u16, String, String)>,
    /// Serve bill downloads (`GET /v3/billdownload/file`) with one value
    /// changed after the hash was announced (the last ASCII letter or
    /// digit moves to its neighbour, before compression, so a gzip
    /// download stays valid gzip): the bill no longer matches `hash_value`.
    pub corrupt_bill: bool,
    /// Wait this many milliseconds before handling each request (to test
    /// a client's timeout). At most [`Faults::MAX_LATENCY_MS`].
    pub latency_ms: u64,
    /// The share of requests answered `429` `FREQUENCY_LIMITED` (signed,
    /// the message says the sandbox injected it) instead of being served.
    pub share_429: f64,
    /// The share of requests answered `500` `SYSTEM_ERROR` (signed, the
    /// message says the sandbox injected it) instead of being served.
    pub share_500: f64,
    /// The share of callback attempts signed with a
    /// `WECHATPAY/SIGNTEST/` probe instead of a real signature, as WeChat
    /// Pay sometimes does: the merchant must refuse them (any answer but
    /// 200/204), after which the callback is sent again on the retry
    /// schedule (each attempt draws afresh).
    pub callback_signtest_share: f64,
}

impl Faults {
    /// The largest accepted [`latency_ms`](Faults::latency_ms): 10 minutes.
    pub const MAX_LATENCY_MS: u64 = 600_000;

    /// Checks that every share is a number from `0.0` to `1.0` and the
    /// latency at most [`Faults::MAX_LATENCY_MS`].
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidFaults`] naming the first field that is not.
    pub fn validate(&self) -> Result<(), SandboxError> {
        for (field, share) in [
            ("unsigned_share", self.unsigned_share),
            ("signtest_share", self.signtest_share),
            ("share_429", self.share_429),
            ("share_500", self.share_500),
            ("callback_signtest_share", self.callback_signtest_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(SandboxError::InvalidFaults {
                    field,
                    reason: format!("a share is a number from 0.0 to 1.0, not {share}"),
                });
            }
        }
        if self.latency_ms > Self::MAX_LATENCY_MS {
            return Err(SandboxError::InvalidFaults {
                field: "latency_ms",
                reason: format!(
                    "at most {} ms, not {}",
                    Self::MAX_LATENCY_MS,
                    self.latency_ms
                ),
            });
        }
        Ok(())
    }

    /// Whether this callback attempt carries a SIGNTEST probe (one draw).
    pub(crate) fn roll_callback_probe(&self, rng: &mut impl Rng) -> bool {
        self.callback_signtest_share > 0.0 && rng.random::<f64>() < self.callback_signtest_share
    }

    /// The latency to add before handling a request.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// Decides this request's fate: one draw per share. The returned
    /// faults have `unsigned_responses` and `signtest_probe` set when
    /// their share hit; the injected status, if any, comes second.
    pub(crate) fn roll(&self, rng: &mut impl Rng) -> (Faults, Option<Injected>) {
        let mut hit = |share: f64| share > 0.0 && rng.random::<f64>() < share;
        let unsigned = hit(self.unsigned_share);
        let signtest = hit(self.signtest_share);
        let too_many = hit(self.share_429);
        let system_error = hit(self.share_500);
        let mut rolled = self.clone();
        rolled.unsigned_responses |= unsigned;
        rolled.signtest_probe |= signtest;
        let injected = if too_many {
            Some(Injected::TooManyRequests)
        } else if system_error {
            Some(Injected::SystemError)
        } else {
            None
        };
        (rolled, injected)
    }
}

/// An error answer a share injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// 429 `FREQUENCY_LIMITED`, from [`Faults::share_429`].
    TooManyRequests,
    /// 500 `SYSTEM_ERROR`, from [`Faults::share_500`].
    SystemError,
}

/// `status_override` as `{"status","code","message"}` or `null`.
mod status_override_json {
    use super::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StatusOverride {
        status: u16,
        code: String,
        message: String,
    }

    pub(super) fn serialize<S: Serializer>(
        value: &Option<(u16, String, String)>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .map(|(status, code, message)| StatusOverride {
                status: *status,
                code: code.clone(),
                message: message.clone(),
            })
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<(u16, String, String)>, D::Error> {
        Ok(Option::<StatusOverride>::deserialize(deserializer)?
            .map(|o| (o.status, o.code, o.message)))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn shares_outside_zero_to_one_are_refused_by_name() {
        for (faults, field) in [
            (
                Faults {
                    share_429: 1.5,
                    ..Faults::default()
                },
                "share_429",
            ),
            (
                Faults {
                    share_500: f64::NAN,
                    ..Faults::default()
                },
                "share_500",
            ),
            (
                Faults {
                    signtest_share: -0.1,
                    ..Faults::default()
                },
                "signtest_share",
            ),
            (
                Faults {
                    unsigned_share: f64::INFINITY,
                    ..Faults::default()
                },
                "unsigned_share",
            ),
            (
                Faults {
                    latency_ms: Faults::MAX_LATENCY_MS + 1,
                    ..Faults::default()
                },
                "latency_ms",
            ),
        ] {
            match faults.validate() {
                Err(SandboxError::InvalidFaults { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        Faults {
            share_429: 1.0,
            share_500: 0.0,
            ..Faults::default()
        }
        .validate()
        .expect("bounds are inclusive");
    }

    #[test]
    fn json_round_trips_with_a_readable_status_override() {
        let faults = Faults {
            status_override: Some((503, "BUSY".into(), "later".into())),
            share_500: 0.25,
            latency_ms: 40,
            ..Faults::default()
        };
        let json = serde_json::to_value(&faults).expect("serializes");
        assert_eq!(
            json["status_override"],
            serde_json::json!({"status": 503, "code": "BUSY", "message": "later"})
        );
        let back: Faults = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, faults);
        let partial: Faults = serde_json::from_str(r#"{"share_429":1}"#).expect("partial");
        assert_eq!(partial.share_429, 1.0);
        assert!(serde_json::from_str::<Faults>(r#"{"share_42":1}"#).is_err());
    }

    proptest::proptest! {
        /// Shares of 0 and 1 are exact whatever the draw: every combination
        /// of the four shares, each 0 or 1, gives exactly the faults whose
        /// share is 1, and a 429 wins over a 500 when both hit.
        #[test]
        fn shares_of_zero_and_one_are_exact(
            unsigned: bool,
            signtest: bool,
            too_many: bool,
            system_error: bool,
            seed: u64,
        ) {
            let share = |on: bool| if on { 1.0 } else { 0.0 };
            let faults = Faults {
                unsigned_share: share(unsigned),
                signtest_share: share(signtest),
                share_429: share(too_many),
                share_500: share(system_error),
                ..Faults::default()
            };
            let (rolled, injected) = faults.roll(&mut StdRng::seed_from_u64(seed));
            proptest::prop_assert_eq!(rolled.unsigned_responses, unsigned);
            proptest::prop_assert_eq!(rolled.signtest_probe, signtest);
            let expected = if too_many {
                Some(Injected::TooManyRequests)
            } else if system_error {
                Some(Injected::SystemError)
            } else {
                None
            };
            proptest::prop_assert_eq!(injected, expected);
        }
    }
}
