//! Callback delivery: the task that turns [`Event`]s (from the flows) and
//! notifications asked for through `POST /_sandbox/notify` into signed,
//! encrypted POSTs to the merchant's `notify_url`, retried on WeChat Pay's
//! schedule, every attempt written to a log.
//!
//! ```text
//! flows ─ EventSink ─┐
//!                    ├─▶ dispatcher ─▶ one task per notification (JoinSet)
//! /_sandbox/notify ──┘                  attempt, sleep, attempt, … ─▶ log
//! ```
//!
//! The dispatcher owns the tasks: aborting it (shutdown, drop) drops the
//! set and with it every pending delivery.
//!
//! This module holds what the shared state keeps ([`Deliveries`]: the
//! settings, the queue, the log) and the public attempt types; it sits
//! below `state`. The dispatcher and the delivery tasks, which need the
//! whole state (keys, faults, the APIv2 notification bodies), are
//! `delivery`, above it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use crate::clock;
use crate::config::SandboxConfig;
use crate::events::{Event, V2Notice};
use rand::Rng as _;
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// WeChat Pay's waits before each new attempt at a callback that failed:
/// 15 s, 15 s, 30 s, 3 min, 10 min, 20 min, 30 min, 30 min, 30 min,
/// 60 min, 3 h, 3 h, 3 h, 6 h, 6 h (16 attempts in all, over about a
/// day). The default of [`SandboxConfig::callback_retry_delays`].
pub const CALLBACK_RETRY_DELAYS: [Duration; 15] = {
    const fn minutes(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }
    [
        Duration::from_secs(15),
        Duration::from_secs(15),
        Duration::from_secs(30),
        minutes(3),
        minutes(10),
        minutes(20),
        minutes(30),
        minutes(30),
        minutes(30),
        minutes(60),
        minutes(180),
        minutes(180),
        minutes(180),
        minutes(360),
        minutes(360),
    ]
};

/// How long the merchant has to answer one attempt: 5 s, as WeChat Pay
/// allows. The default of [`SandboxConfig::callback_timeout`].
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The delivery log keeps this many attempts, dropping the oldest.
const LOG_CAPACITY: usize = 10_000;

/// At most this much of a merchant's answer is kept in the log.
const ANSWER_EXCERPT: usize = 1024;

/// One attempt at delivering a callback, as
/// [`Sandbox::callback_attempts`](crate::Sandbox::callback_attempts) and
/// `GET /_sandbox/callbacks` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackAttempt {
    /// The notification's `id` (the same in every attempt at it).
    pub notification_id: String,
    /// Its `event_type`, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// Where it was POSTed.
    pub notify_url: String,
    /// The `out_trade_no` of the resource, when it names one (payment and
    /// refund callbacks do): the order it is about.
    pub out_trade_no: Option<String>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// When the attempt started.
    pub started_at: SystemTime,
    /// How long it took, up to the answer or the failure.
    pub duration: Duration,
    /// The merchant's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without an answer (timeout, connection
    /// refused, …); `None` when there was an answer.
    pub error: Option<String>,
    /// The start of the merchant's answer body (up to 1 KiB, lossy UTF-8),
    /// when there was one and it was not empty.
    pub answer: Option<String>,
    /// What came of it.
    pub outcome: CallbackOutcome,
}

/// What came of one [`CallbackAttempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackOutcome {
    /// The merchant answered 200 or 204: delivered, no more attempts.
    Delivered,
    /// Failed; the next attempt follows after this wait.
    Retrying {
        /// The wait before the next attempt, counted from the end of this
        /// one.
        after: Duration,
    },
    /// Failed, and it was the last attempt: the sandbox gave up.
    GaveUp,
}

impl CallbackOutcome {
    /// `delivered`, `retrying` or `gave_up`, as the control endpoint shows it.
    pub fn as_str(&self) -> &'static str {
        match self {
            CallbackOutcome::Delivered => "delivered",
            CallbackOutcome::Retrying { .. } => "retrying",
            CallbackOutcome::GaveUp => "gave_up",
        }
    }
}

/// One callback to deliver, with owned texts (unlike [`Event`], which the
/// flows fill from constants).
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) original_type: String,
    pub(crate) summary: String,
    pub(crate) notify_url: String,
    pub(crate) resource: Value,
    /// `Some` for an APIv2 notification: an XML body, no APIv3 signature
    /// headers, delivered only by a `return_code` `SUCCESS` reply.
    pub(crate) v2: Option<V2Notice>,
}

impl Notification {
    /// A notification with a fresh id.
    pub(crate) fn new(
        event_type: String,
        original_type: String,
        summary: String,
        notify_url: String,
        resource: Value,
    ) -> Self {
        Notification {
            id: notification_id(),
            event_type,
            original_type,
            summary,
            notify_url,
            resource,
            v2: None,
        }
    }

    /// The notification of one event from the flows.
    pub(crate) fn from_event(event: Event) -> Self {
        let mut notification = Notification::new(
            event.event_type.to_owned(),
            event.original_type.to_owned(),
            event.summary.to_owned(),
            event.notify_url,
            event.resource,
        );
        notification.v2 = event.v2;
        notification
    }
}

/// `EV-` and 19 digits: the time in China (`YYYYMMDDhhmmss`) and a
/// 5-digit counter that starts at a random value, like WeChat Pay's
/// `EV-2018022511223320873`. Unique unless 100 000 notifications are made
/// in one second.
fn notification_id() -> String {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let counter = COUNTER.get_or_init(|| AtomicU32::new(rand::rng().random_range(0..100_000)));
    let sequence = counter.fetch_add(1, Ordering::Relaxed) % 100_000;
    let time: String = clock::format_rfc3339(clock::unix_now())
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    format!("EV-{time}{sequence:05}")
}

/// The delivery settings, the queue for `POST /_sandbox/notify`, and the
/// log; kept in the server's shared state.
pub(crate) struct Deliveries {
    queue: UnboundedSender<Notification>,
    /// The waits before each new attempt ([`CALLBACK_RETRY_DELAYS`] unless
    /// configured).
    pub(crate) delays: Vec<Duration>,
    /// How long one attempt may take.
    pub(crate) timeout: Duration,
    log: Mutex<VecDeque<CallbackAttempt>>,
}

impl Deliveries {
    /// The settings from `config`, and the receiving end of the queue for
    /// [`spawn`](crate::delivery::spawn).
    pub(crate) fn new(config: &SandboxConfig) -> (Deliveries, UnboundedReceiver<Notification>) {
        let (queue, queued) = unbounded_channel();
        let deliveries = Deliveries {
            queue,
            delays: config
                .callback_retry_delays
                .clone()
                .unwrap_or_else(|| CALLBACK_RETRY_DELAYS.to_vec()),
            timeout: config.callback_timeout.unwrap_or(CALLBACK_TIMEOUT),
            log: Mutex::new(VecDeque::new()),
        };
        (deliveries, queued)
    }

    /// Queues `notification` for delivery.
    pub(crate) fn submit(&self, notification: Notification) {
        if self.queue.send(notification).is_err() {
            tracing::warn!("the sandbox is stopping; a callback was not delivered");
        }
    }

    /// Every attempt so far (the last 10 000), oldest first.
    pub(crate) fn attempts(&self) -> Vec<CallbackAttempt> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Writes `attempt` to the log, dropping the oldest past 10 000.
    pub(crate) fn record(&self, attempt: CallbackAttempt) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(attempt);
    }
}

/// What one POST came to.
pub(crate) struct Answered {
    pub(crate) status: u16,
    pub(crate) answer: Option<String>,
}

/// The start of an answer body, for the log (up to 1 KiB, lossy UTF-8).
pub(crate) fn excerpt(bytes: &[u8]) -> Option<String> {
    let excerpt = &bytes[..bytes.len().min(ANSWER_EXCERPT)];
    (!excerpt.is_empty()).then(|| String::from_utf8_lossy(excerpt).into_owned())
}

/// An error and its causes, `: `-separated; a timeout says so first.
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_wechat_pays() {
        let total: Duration = CALLBACK_RETRY_DELAYS.iter().sum();
        // 15+15+30 s, 3+10+20+30+30+30+60 min, 3×3 h, 2×6 h.
        assert_eq!(total, Duration::from_secs(60 + 183 * 60 + 21 * 3600));
    }

    #[test]
    fn notification_ids_look_like_wechat_pays_and_differ() {
        let ids: Vec<String> = (0..1000).map(|_| notification_id()).collect();
        for id in &ids {
            let digits = id.strip_prefix("EV-").expect("prefix");
            assert_eq!(digits.len(), 19, "{id}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
