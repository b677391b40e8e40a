//! Retrying failed calls: which failures are worth another attempt, how
//! long to wait before it, and when to stop.
//!
//! A [`RetryPolicy`] is set per client ([`ClientBuilder::retry`]) and may be
//! overridden per call ([`CallOptions::retry`]). The client's policy also
//! governs its platform certificate downloads, with the same rules below.
//!
//! # What is retried
//! Whether a failure is retried depends on the failure and on the
//! operation's [`Idempotency`] ([`Endpoint::IDEMPOTENCY`]): can it be sent
//! again after the first attempt may have reached WeChat Pay?
//!
//! | failure | idempotent operation | other writes | why |
//! |---|---|---|---|
//! | the connection was never opened: refused, DNS, TLS handshake, connect timeout ([`Error::Transport`], `is_connect`) | yes | yes | the request provably never left |
//! | the connection broke after sending began ([`Error::Transport`]) | yes | **no** | the server may have acted |
//! | no answer in time ([`Error::Timeout`]) | yes | **no** | see below |
//! | HTTP 429 | yes, after `Retry-After` when the answer has one | **no** | rate limit |
//! | HTTP 500, 502, 503, 504 | yes | **no** | WeChat Pay asks for a retry with the same parameters |
//! | any other 4xx or 5xx | no | no | the request itself is wrong; sending it again changes nothing |
//! | a 2xx whose signature does not verify ([`Error::Verification`]) | no | no | a forged answer is not transient |
//! | a verified answer that does not decode ([`Error::Decode`]) | no | no | the response type is wrong |
//!
//! A request that timed out may have taken effect. WeChat Pay's rule for
//! that case is to send the request again with the same parameters (the
//! same `out_trade_no`, `out_refund_no`, … number), which WeChat Pay then
//! recognises as a repeat: that is exactly what a retry does, and why it
//! is done only for operations where a repeat cannot act twice: reads and
//! naturally idempotent writes ([`Idempotency::Natural`]: closing an
//! order, cancelling, activating a stock) and writes that carry their
//! operation's number ([`Idempotency::Keyed`]). Every catalogue operation
//! declares which it is; a hand-written endpoint takes the default of its
//! method ([`Idempotency::of_method`]) unless it says otherwise
//! (`#[wxpay::endpoint(…, idempotent)]`, an `#[wxpay(idempotency_key)]`
//! field). [`CallOptions::idempotency`] overrides it for one call. Each
//! retry is signed again, with a fresh nonce and timestamp, over the very
//! same body bytes and request target.
//!
//! # Failover
//! Against the production host, a network failure (never an HTTP status)
//! that is retried sends the next attempt to the backup domain
//! [`BACKUP_BASE_URL`](crate::client::BACKUP_BASE_URL); another network
//! failure there switches back. The signature does not cover the host, so
//! the request is otherwise unchanged. See [`ClientBuilder::backup_base_url`].
//!
//! # Waiting
//! Before retry `n` (1 for the first retry) the client waits up to
//! `min(max_delay, base_delay × 2ⁿ⁻¹)`, randomised by the policy's
//! [`Jitter`]. When the answer carried a `Retry-After` header (seconds or an
//! HTTP date), the wait is at least that long; a `Retry-After` longer than
//! the policy's `max_delay` is not waited for: the call fails at once with
//! the answer, whose [`ApiError::retry_after`] says when to try again. No
//! retry starts once `max_elapsed` would be exceeded; an attempt already on
//! its way is bounded by the client's timeout alone.
//!
//! A call whose answer names a platform certificate serial the client
//! does not know yet, right after a failed certificate download (see
//! [`CERTIFICATE_RETRY_AFTER_FAILURE`]), waits for that download's back-off
//! to end under the same two bounds (at most `max_delay`, not past
//! `max_elapsed`), then downloads and checks the answer it holds; the
//! request is not sent again. A policy that does not retry does not wait.
//!
//! The two bounds interact: with the default per-attempt timeout
//! ([`DEFAULT_TIMEOUT`](crate::client::DEFAULT_TIMEOUT), 30 s) and the
//! default `max_elapsed` (20 s), an attempt that waits out the whole
//! timeout ends the call, while refused connections, connect timeouts
//! (at most 10 s) and quick error answers are retried. For read timeouts to
//! be retried as well, set a shorter [`ClientBuilder::timeout`] or a longer
//! `max_elapsed`.
//!
//! [`ClientBuilder::retry`]: crate::ClientBuilder::retry
//! [`ClientBuilder::timeout`]: crate::ClientBuilder::timeout
//! [`ClientBuilder::backup_base_url`]: crate::ClientBuilder::backup_base_url
//! [`CallOptions::retry`]: crate::CallOptions::retry
//! [`CallOptions::idempotency`]: crate::CallOptions::idempotency
//! [`Endpoint::IDEMPOTENCY`]: crate::Endpoint::IDEMPOTENCY
//! [`Error::Transport`]: crate::Error::Transport
//! [`Error::Timeout`]: crate::Error::Timeout
//! [`Error::Verification`]: crate::Error::Verification
//! [`Error::Decode`]: crate::Error::Decode
//! [`ApiError::retry_after`]: crate::ApiError::retry_after
//! [`CERTIFICATE_RETRY_AFTER_FAILURE`]: crate::client::CERTIFICATE_RETRY_AFTER_FAILURE

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::Url;
use tokio::time::Instant;

use crate::endpoint::Idempotency;
use crate::error::Error;

/// How the wait before a retry is randomised, so that many clients hit by
/// the same outage do not all come back at the same instant.
///
/// With `ceiling = min(max_delay, base_delay × 2ⁿ⁻¹)` before retry `n`:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// Wait exactly `ceiling`. Predictable, for tests; many clients then
    /// retry in lockstep.
    None,
    /// Wait a uniformly random time in `[0, ceiling]`: the widest spread,
    /// but a retry may follow almost at once.
    Full,
    /// Wait `ceiling / 2` plus a uniformly random time in `[0, ceiling / 2]`:
    /// always some pause, still spread out. The default.
    #[default]
    Equal,
}

/// When and how often a failed call is tried again.
///
/// The default ([`RetryPolicy::default`]) makes at most 3 attempts, waits
/// 200 ms, then 400 ms (each with [`Jitter::Equal`], at most 5 s per wait)
/// and starts no retry more than 20 s after the call began.
/// [`RetryPolicy::none`] sends each request once.
///
/// ```
/// use std::time::Duration;
/// use wxpay_core::retry::{Jitter, RetryPolicy};
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_base_delay(Duration::from_millis(500))
///     .with_max_elapsed(Duration::from_secs(60))
///     .with_jitter(Jitter::Full);
/// assert_eq!(patient.max_attempts(), 5);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
///
/// See the [module documentation](self) for what is retried.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(20),
            jitter: Jitter::Equal,
        }
    }
}

impl RetryPolicy {
    /// The default policy; see [`RetryPolicy`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Never retry: one attempt per call.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// At most `attempts` attempts in all, the first one included
    /// (0 counts as 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry, doubled before each further one.
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest single wait. A `Retry-After` asking for longer ends the
    /// call instead.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// No retry starts when it would begin more than this long after the
    /// call started.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// How waits are randomised.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The most attempts a call makes, the first one included (at least 1).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest single wait.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How long after the start of a call a retry may still begin.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// How waits are randomised.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// Whether this policy ever makes a second attempt.
    pub fn retries(&self) -> bool {
        self.max_attempts > 1
    }

    /// The upper bound of the wait before retry `retry` (1 for the first
    /// retry), before jitter: `min(max_delay, base_delay × 2^(retry-1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The jittered wait before retry `retry`.
    fn backoff<R: Rng>(&self, retry: u32, rng: &mut R) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => Duration::from_nanos(rng.random_range(0..=nanos)),
            Jitter::Equal => {
                let half = nanos / 2;
                Duration::from_nanos(half + rng.random_range(0..=nanos - half))
            }
        }
    }

    /// Decides what follows a retryable failure: the wait before the next
    /// attempt, or why there is none.
    ///
    /// `attempts` is the number of attempts made so far, `elapsed` the time
    /// since the call started, `retry_after` the server's `Retry-After`.
    pub(crate) fn next_wait(
        &self,
        attempts: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Result<Duration, GiveUp> {
        self.next_wait_with(attempts, elapsed, retry_after, &mut rand::rng())
    }

    fn next_wait_with<R: Rng>(
        &self,
        attempts: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Result<Duration, GiveUp> {
        if attempts >= self.max_attempts {
            return Err(GiveUp::Attempts);
        }
        let backoff = self.backoff(attempts, rng);
        let wait = match retry_after {
            Some(asked) if asked > self.max_delay => return Err(GiveUp::RetryAfter),
            Some(asked) => asked.max(backoff),
            None => backoff,
        };
        if elapsed.saturating_add(wait) > self.max_elapsed {
            return Err(GiveUp::Elapsed);
        }
        Ok(wait)
    }
}

/// Why a retryable failure ends the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// The policy's attempts are used up.
    Attempts,
    /// The next attempt would start after the policy's `max_elapsed`.
    Elapsed,
    /// The server asked for a longer pause than the policy's `max_delay`.
    RetryAfter,
}

impl GiveUp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GiveUp::Attempts => "attempts exhausted",
            GiveUp::Elapsed => "time budget exhausted",
            GiveUp::RetryAfter => "Retry-After exceeds the policy's max delay",
        }
    }
}

/// Why a failed attempt may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The connection could not be opened.
    Connect,
    /// The connection failed after it was opened (reset, closed early).
    Connection,
    /// No complete answer in time.
    Timeout,
    /// A retryable HTTP status (429, 500, 502, 503, 504).
    Status(u16),
}

impl Reason {
    /// Why an error may be retried, or `None` when it must not be.
    pub(crate) fn of(error: &Error) -> Option<Reason> {
        match error {
            Error::Transport { source, .. } if source.is_builder() || source.is_redirect() => None,
            Error::Transport { source, .. } if source.is_connect() => Some(Reason::Connect),
            Error::Transport { .. } => Some(Reason::Connection),
            Error::Timeout { .. } => Some(Reason::Timeout),
            Error::Api(api) if crate::error::is_retryable_status(api.status) => {
                Some(Reason::Status(api.status.as_u16()))
            }
            _ => None,
        }
    }

    /// Whether the failure proves that the request never reached the
    /// server, so that even a write that is not idempotent may be sent
    /// again: the connection was never opened (refused, no such host, TLS
    /// handshake failed, connect timeout). A connection that broke later,
    /// a timeout waiting for the answer and an error status all leave open
    /// whether the server acted.
    pub(crate) fn proves_unsent(self) -> bool {
        matches!(self, Reason::Connect)
    }

    /// Whether the failure was the network's (and so a reason to fail over
    /// to the backup host), not an HTTP status.
    pub(crate) fn is_network(self) -> bool {
        !matches!(self, Reason::Status(_))
    }

    /// A short label for logs.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Connect => "connect error",
            Reason::Connection => "connection error",
            Reason::Timeout => "timeout",
            Reason::Status(429) => "HTTP 429",
            Reason::Status(500) => "HTTP 500",
            Reason::Status(502) => "HTTP 502",
            Reason::Status(503) => "HTTP 503",
            Reason::Status(504) => "HTTP 504",
            Reason::Status(_) => "HTTP error status",
        }
    }
}

/// One call's way through its retry policy (a certificate download's too):
/// the attempts made, when the first began, and which host the next one
/// goes to. What is the caller's own (building each attempt, re-signing)
/// stays with the caller; what every retry loop shares is here, logged the
/// same way for all of them.
pub(crate) struct Attempts<'p> {
    policy: &'p RetryPolicy,
    /// Whether the request may be sent again after it may have arrived
    /// ([`Idempotency::allows_resend`]); when not, only failures that
    /// prove it never left ([`Reason::Connect`]) are retried.
    resend: bool,
    started: Instant,
    number: u32,
    /// The backup host, when network failures switch to it and back.
    backup: Option<&'p Url>,
    on_backup: bool,
}

impl<'p> Attempts<'p> {
    /// Before the first attempt. `backup`: the host that network failures
    /// switch to (and, after another, back from).
    /// `idempotency`: the request's, which decides whether failures after
    /// it may have arrived are retried.
    pub(crate) fn start(
        policy: &'p RetryPolicy,
        backup: Option<&'p Url>,
        idempotency: Idempotency,
    ) -> Self {
        Attempts {
            policy,
            resend: idempotency.allows_resend(),
            started: Instant::now(),
            number: 1,
            backup,
            on_backup: false,
        }
    }

    /// The number of the attempt about to be made (or just made), from 1.
    pub(crate) fn number(&self) -> u32 {
        self.number
    }

    /// Where the attempt about to be made goes: the backup host, or
    /// `None` for the request's own URL.
    pub(crate) fn base(&self) -> Option<&'p Url> {
        self.backup.filter(|_| self.on_backup)
    }

    /// How long the call may wait for something other than an answer, or
    /// `None` when its policy does not retry (it does not wait at all).
    pub(crate) fn patience(&self) -> Option<Patience> {
        self.policy.retries().then(|| Patience {
            deadline: self.started.checked_add(self.policy.max_elapsed),
            max_wait: self.policy.max_delay,
        })
    }

    /// After the current attempt failed with `error`: waits out the delay
    /// before the next attempt and returns `Ok`, or, when there is to be
    /// none (the failure is not transient, the policy does not retry, its
    /// attempts or time are used up, or the server asks for a longer pause
    /// than it allows), returns the error with the number of attempts made.
    pub(crate) async fn after_failure(&mut self, mut error: Error) -> Result<(), Error> {
        let attempt = self.number;
        error.set_attempts(attempt);
        let Some(reason) = Reason::of(&error) else {
            tracing::debug!(attempt, "not retried: the failure is not transient");
            return Err(error);
        };
        if !self.policy.retries() {
            tracing::debug!(reason = reason.as_str(), "not retried: the policy is none");
            return Err(error);
        }
        if !self.resend && !reason.proves_unsent() {
            tracing::debug!(
                reason = reason.as_str(),
                "not retried: the request may have arrived, and the operation is not idempotent"
            );
            return Err(error);
        }
        let retry_after = error.as_api().and_then(|api| api.retry_after);
        let wait = match self
            .policy
            .next_wait(attempt, self.started.elapsed(), retry_after)
        {
            Ok(wait) => wait,
            Err(give_up) => {
                tracing::warn!(
                    attempts = attempt,
                    reason = reason.as_str(),
                    why = give_up.as_str(),
                    elapsed_ms = millis(self.started.elapsed()),
                    "giving up"
                );
                return Err(error);
            }
        };
        let failover = reason.is_network() && self.backup.is_some();
        if failover {
            self.on_backup = !self.on_backup;
        }
        tracing::debug!(
            attempt,
            reason = reason.as_str(),
            delay_ms = millis(wait),
            failover,
            "retrying"
        );
        tokio::time::sleep(wait).await;
        self.number += 1;
        Ok(())
    }
}

/// How long a call whose policy retries may wait, besides its retries'
/// own waits, for something it needs before it can use an answer it holds
/// (for a failed certificate download's back-off to end, so that the key an
/// answer was signed with can be fetched): as long as a retry's wait may be
/// (the policy's `max_delay`), and not past the call's time budget (its
/// `max_elapsed`). Waiting is better than a retry there: the answer is in
/// hand, and sending the request again is not needed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    /// When the call's time budget ends (`None`: it never does).
    deadline: Option<Instant>,
    max_wait: Duration,
}

impl Patience {
    /// Whether waiting from `now` until `until` is within bounds.
    pub(crate) fn allows(&self, until: Instant, now: Instant) -> bool {
        until.saturating_duration_since(now) <= self.max_wait
            && self.deadline.is_none_or(|deadline| until <= deadline)
    }
}

/// A duration in whole milliseconds, for log fields.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Reads a `Retry-After` value: a number of seconds, or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`) taken relative to `now`. A date in the
/// past means no wait; a number too large to represent, an indefinitely
/// long one. Anything else is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn patience_is_bounded_by_the_max_delay_and_the_time_budget() {
        let policy = RetryPolicy::new()
            .with_max_delay(Duration::from_secs(2))
            .with_max_elapsed(Duration::from_secs(5));
        let attempts = Attempts::start(&policy, None, Idempotency::Natural);
        let patience = attempts.patience().expect("the policy retries");
        let now = Instant::now();
        assert!(patience.allows(now, now));
        assert!(patience.allows(now + Duration::from_secs(2), now));
        assert!(!patience.allows(now + Duration::from_millis(2001), now));
        // Four seconds in, two more would pass the five-second budget.
        let later = now + Duration::from_secs(4);
        assert!(patience.allows(later + Duration::from_millis(900), later));
        assert!(!patience.allows(later + Duration::from_secs(2), later));

        let none = RetryPolicy::none();
        assert!(
            Attempts::start(&none, None, Idempotency::Natural)
                .patience()
                .is_none()
        );
        // No budget at all (`Duration::MAX`) does not overflow.
        let endless = RetryPolicy::new().with_max_elapsed(Duration::MAX);
        let patience = Attempts::start(&endless, None, Idempotency::Natural)
            .patience()
            .expect("retries");
        assert!(patience.allows(now + endless.max_delay, now));
    }

    #[test]
    fn ceilings_double_and_saturate() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff_ceiling(1), 200 * MS);
        assert_eq!(policy.backoff_ceiling(2), 400 * MS);
        assert_eq!(policy.backoff_ceiling(5), 3200 * MS);
        assert_eq!(policy.backoff_ceiling(6), Duration::from_secs(5));
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_secs(5));
        let unbounded = policy.with_max_delay(Duration::MAX);
        assert_eq!(
            unbounded.backoff_ceiling(100),
            (200 * MS).saturating_mul(u32::MAX)
        );
    }

    fn jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![Just(Jitter::Full), Just(Jitter::Equal), Just(Jitter::None)]
    }

    /// Delays from nothing to `Duration::MAX`, the edges included.
    fn delay() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            (0u64..=3_600_000).prop_map(Duration::from_millis),
            any::<(u64, u32)>()
                .prop_map(|(secs, nanos)| Duration::new(secs, nanos % 1_000_000_000)),
        ]
    }

    proptest! {
        /// Whatever the policy, retry and random draw: the wait is never
        /// above the retry's ceiling, never below the jitter's floor (none
        /// for full jitter, half the ceiling for equal jitter, the ceiling
        /// itself without jitter), and huge settings do not overflow.
        #[test]
        fn the_jittered_wait_stays_in_its_band(
            jitter in jitter(),
            base in delay(),
            max in delay(),
            retry in prop_oneof![1u32..=70, Just(u32::MAX)],
            seed in any::<u64>(),
        ) {
            let policy = RetryPolicy::default()
                .with_base_delay(base)
                .with_max_delay(max)
                .with_jitter(jitter);
            let ceiling = policy.backoff_ceiling(retry);
            prop_assert!(ceiling <= max);
            let wait = policy.backoff(retry, &mut StdRng::seed_from_u64(seed));
            // The draw is in whole nanoseconds, capped at u64::MAX of them.
            let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
            let floor = match jitter {
                Jitter::Full => 0,
                Jitter::Equal => nanos / 2,
                Jitter::None => nanos,
            };
            prop_assert!(wait <= ceiling, "{jitter:?}: {wait:?} above {ceiling:?}");
            prop_assert!(wait >= Duration::from_nanos(floor), "{jitter:?}: {wait:?} below {floor} ns");
        }
    }

    #[test]
    fn stops_on_attempts_elapsed_time_and_long_retry_after() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default().with_jitter(Jitter::None);
        let wait = |attempts, elapsed, after, rng: &mut StdRng| {
            policy.next_wait_with(attempts, elapsed, after, rng)
        };
        assert_eq!(wait(1, Duration::ZERO, None, &mut rng), Ok(200 * MS));
        assert_eq!(wait(2, Duration::ZERO, None, &mut rng), Ok(400 * MS));
        assert_eq!(
            wait(3, Duration::ZERO, None, &mut rng),
            Err(GiveUp::Attempts)
        );
        assert_eq!(
            wait(1, Duration::from_millis(19_900), None, &mut rng),
            Err(GiveUp::Elapsed)
        );
        // Retry-After is a lower bound, and capped by max_delay.
        let secs = Duration::from_secs;
        assert_eq!(
            wait(1, Duration::ZERO, Some(secs(1)), &mut rng),
            Ok(secs(1))
        );
        assert_eq!(
            wait(1, Duration::ZERO, Some(Duration::ZERO), &mut rng),
            Ok(200 * MS)
        );
        assert_eq!(
            wait(1, Duration::ZERO, Some(secs(6)), &mut rng),
            Err(GiveUp::RetryAfter)
        );
        assert_eq!(
            RetryPolicy::none().next_wait(1, Duration::ZERO, None),
            Err(GiveUp::Attempts)
        );
        assert_eq!(RetryPolicy::none().with_max_attempts(0).max_attempts(), 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        let secs = Duration::from_secs;
        assert_eq!(parse_retry_after("1", now), Some(secs(1)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(secs(120)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
        // 2015-10-21T07:28:00Z is 1445412480.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(secs(10))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now),
            Some(secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for junk in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }
}
