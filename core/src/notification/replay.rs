//! [`ReplayCache`]: which notifications were already handled, so that a
//! callback delivered again is answered without being handled twice.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::signing::unix_now;
use crate::verification::MAX_CLOCK_SKEW_SECS;

/// A key: the first 16 bytes of the SHA-256 of a notification id, so that
/// every entry has the same small size whatever the id.
type Key = [u8; 16];

/// The notification ids handled recently, bounded in number and in age:
/// what makes a callback that arrives again get the success reply without
/// reaching the handler a second time.
///
/// WeChat Pay signs every delivery afresh (new timestamp, new nonce) but
/// keeps the notification `id`, so the id is what is recorded. An id is
/// recorded only once the handler **succeeded** ([`ReplayCache::mark_handled`],
/// or [`Notification::acknowledge`](super::Notification::acknowledge)):
/// a callback whose handling failed is sent again by WeChat Pay and must
/// reach the handler again. A replay of a captured callback carries the
/// same id, so it is recognised too; and since only callbacks whose
/// signature verified are ever recorded, nobody but WeChat Pay can fill
/// the cache.
///
/// Bounds: at most [`ReplayCache::capacity`] ids (the oldest go first when
/// it is full; under 100 bytes each), each kept for
/// [`ReplayCache::window`] (by default the ±300 s a signature timestamp
/// may be off by: a replay older than that is refused by the timestamp
/// check anyway, and WeChat Pay's first resends come 15 s and 30 s after a
/// failure). Past that, handlers must still be idempotent, as WeChat Pay
/// asks.
///
/// Cheap to clone (an `Arc` inside): clones share their entries, so one
/// cache can serve several routes or decoders.
///
/// With the `axum` feature, the `WechatpayNotification` extractor consults
/// the [`NotificationDecoder`](super::NotificationDecoder)'s cache by
/// itself. Without axum:
///
/// ```no_run
/// use wxpay_core::notification::resources::Transaction;
/// use wxpay_core::notification::{NotificationDecoder, NotificationReply, ReplayCache};
///
/// fn record_payment(_: &Transaction) -> Result<(), std::io::Error> { Ok(()) }
///
/// fn handle(decoder: &NotificationDecoder, cache: &ReplayCache, headers: &http::HeaderMap, body: &[u8]) -> NotificationReply {
///     let notification = match decoder.decode::<Transaction>(headers, body) {
///         Ok(notification) => notification,
///         Err(error) => return error.reply(),
///     };
///     // Only after the signature verified.
///     if cache.is_handled(&notification.id) {
///         return NotificationReply::success();
///     }
///     match record_payment(&notification.resource) {
///         Ok(()) => {
///             cache.mark_handled(&notification.id);
///             NotificationReply::success()
///         }
///         // Not recorded: WeChat Pay sends it again and it is handled then.
///         Err(_) => NotificationReply::failure("database unavailable"),
///     }
/// }
/// # let _ = handle;
/// # let _ = ReplayCache::new(1000);
/// ```
#[derive(Clone)]
pub struct ReplayCache {
    shared: Arc<Shared>,
}

struct Shared {
    capacity: usize,
    window_secs: i64,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// Each key's expiry (Unix seconds) and insertion number.
    map: HashMap<Key, (i64, u64)>,
    /// Keys in insertion order, with their insertion number (an entry
    /// whose number no longer matches the map's is stale).
    order: VecDeque<(Key, u64)>,
    next: u64,
}

impl ReplayCache {
    /// The default [`ReplayCache::capacity`]: 100 000 ids (about 10 MB at
    /// most), more callbacks than a busy merchant receives in five minutes.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// The default [`ReplayCache::window`]: 300 s, the clock skew a
    /// callback's signature timestamp is allowed.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(MAX_CLOCK_SKEW_SECS.unsigned_abs());

    /// A cache of at most `capacity` ids (at least 1), each kept for
    /// [`ReplayCache::DEFAULT_WINDOW`].
    pub fn new(capacity: usize) -> Self {
        Self::with_window(capacity, Self::DEFAULT_WINDOW)
    }

    /// A cache of at most `capacity` ids (at least 1), each kept for
    /// `window` (whole seconds, at least 1).
    pub fn with_window(capacity: usize, window: Duration) -> Self {
        let window_secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
        ReplayCache {
            shared: Arc::new(Shared {
                capacity: capacity.max(1),
                window_secs,
                entries: Mutex::new(Entries::default()),
            }),
        }
    }

    /// The most ids kept.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// How long an id is kept.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.shared.window_secs.unsigned_abs())
    }

    /// How many ids are kept now (some may have expired but not yet been
    /// dropped).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no id is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the notification `id` was marked handled within the window.
    /// Call it only for a callback whose signature verified.
    pub fn is_handled(&self, id: &str) -> bool {
        self.is_handled_at(id, unix_now())
    }

    /// [`ReplayCache::is_handled`] with `now` (Unix seconds) as the clock.
    pub fn is_handled_at(&self, id: &str, now: i64) -> bool {
        let key = key(id);
        let mut entries = self.lock();
        match entries.map.get(&key) {
            Some(&(expires, _)) if expires > now => true,
            Some(_) => {
                entries.map.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Records the notification `id` as handled: until the window has
    /// passed, [`ReplayCache::is_handled`] says so. Call it once the
    /// handler succeeded, never for a callback whose signature was not
    /// verified. Marking an id again keeps its first expiry.
    pub fn mark_handled(&self, id: &str) {
        self.mark_handled_at(id, unix_now());
    }

    /// [`ReplayCache::mark_handled`] with `now` (Unix seconds) as the
    /// clock.
    pub fn mark_handled_at(&self, id: &str, now: i64) {
        let key = key(id);
        let capacity = self.shared.capacity;
        let expires = now.saturating_add(self.shared.window_secs);
        let mut entries = self.lock();
        entries.drop_expired(now);
        match entries.map.get(&key) {
            Some(&(until, _)) if until > now => return,
            _ => {}
        }
        while entries.map.len() >= capacity || entries.order.len() >= capacity.saturating_mul(2) {
            if !entries.pop_oldest() {
                break;
            }
        }
        let number = entries.next;
        entries.next = entries.next.wrapping_add(1);
        entries.map.insert(key, (expires, number));
        entries.order.push_back((key, number));
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The entries stay consistent whatever panicked while they were
        // held: every change is one insert or remove.
        self.shared
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    /// Drops the oldest entry; `false` when there was none.
    fn pop_oldest(&mut self) -> bool {
        let Some((key, number)) = self.order.pop_front() else {
            return false;
        };
        if self.map.get(&key).is_some_and(|&(_, n)| n == number) {
            self.map.remove(&key);
        }
        true
    }

    /// Drops the entries at the front that expired (or went stale).
    fn drop_expired(&mut self, now: i64) {
        while let Some(&(key, number)) = self.order.front() {
            match self.map.get(&key) {
                Some(&(expires, n)) if n == number && expires > now => break,
                _ => {
                    self.pop_oldest();
                }
            }
        }
    }
}

impl Default for ReplayCache {
    /// [`ReplayCache::DEFAULT_CAPACITY`] ids for
    /// [`ReplayCache::DEFAULT_WINDOW`].
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayCache")
            .field("capacity", &self.shared.capacity)
            .field("window", &self.window())
            .field("len", &self.len())
            .finish()
    }
}

fn key(id: &str) -> Key {
    let digest = Sha256::digest(id.as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// What a [`Notification`](super::Notification) knows of the replay cache
/// it came through; not part of its equality.
#[derive(Clone, Default)]
pub(super) struct ReplayLink(pub(super) Option<ReplayCache>);

impl PartialEq for ReplayLink {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for ReplayLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ReplayCache"
        } else {
            "None"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn handled_ids_are_known_for_the_window_only() {
        let cache = ReplayCache::new(10);
        assert!(!cache.is_handled_at("EV-1", NOW));
        cache.mark_handled_at("EV-1", NOW);
        assert!(cache.is_handled_at("EV-1", NOW));
        assert!(cache.is_handled_at("EV-1", NOW + 299));
        assert!(!cache.is_handled_at("EV-2", NOW));
        // Expired: dropped, and not handled any more.
        assert!(!cache.is_handled_at("EV-1", NOW + 300));
        assert_eq!(cache.len(), 0);
        // Marking again keeps the first expiry.
        cache.mark_handled_at("EV-3", NOW);
        cache.mark_handled_at("EV-3", NOW + 200);
        assert!(!cache.is_handled_at("EV-3", NOW + 300));
    }

    #[test]
    fn the_oldest_go_first_when_full() {
        let cache = ReplayCache::with_window(3, Duration::from_secs(60));
        for (at, id) in ["a", "b", "c", "d"].into_iter().enumerate() {
            cache.mark_handled_at(id, NOW + at as i64);
        }
        assert_eq!(cache.len(), 3);
        assert!(!cache.is_handled_at("a", NOW + 5));
        for id in ["b", "c", "d"] {
            assert!(cache.is_handled_at(id, NOW + 5), "{id}");
        }
        // Expired entries make room before anything is evicted.
        cache.mark_handled_at("e", NOW + 62);
        assert!(cache.is_handled_at("d", NOW + 62));
        assert!(cache.is_handled_at("e", NOW + 62));
        assert!(!cache.is_handled_at("b", NOW + 62));
    }

    #[test]
    fn memory_stays_bounded_whatever_arrives() {
        let cache = ReplayCache::with_window(100, Duration::from_secs(3600));
        for n in 0..10_000 {
            cache.mark_handled_at(&format!("EV-{n}"), NOW + n / 100);
            // Expire and re-mark the same id too.
            cache.mark_handled_at("EV-again", NOW + n * 4000);
        }
        let entries = cache.lock();
        assert!(entries.map.len() <= 100, "{}", entries.map.len());
        assert!(entries.order.len() <= 200, "{}", entries.order.len());
    }
}
