//! The notifications the sandbox owes merchants (payment, refund and
//! coupon callbacks), handed from the flows that cause them to the task
//! that delivers them.
//!
//! A flow builds an [`Event`] with the resource in clear and calls
//! [`EventSink::send`]; it never waits for the delivery. The delivery task
//! owns the receiving end: it encrypts the resource with the APIv3 key,
//! signs the callback with the platform key and POSTs it to
//! [`Event::notify_url`], retrying on WeChat Pay's schedule.

use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// One callback to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// `event_type`, e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`,
    /// `COUPON.SEND`, `PROFITSHARING.SUCCESS`, `PROFITSHARING.RETURN`,
    /// `MCHTRANSFER.BILL.FINISHED`.
    pub(crate) event_type: &'static str,
    /// `resource.original_type`: `transaction`, `refund`, `coupon`,
    /// `profitsharing`, `mch_payment`, ….
    pub(crate) original_type: &'static str,
    /// `summary`, e.g. `支付成功`.
    pub(crate) summary: &'static str,
    /// Where to POST it (the order's, refund's or transfer bill's
    /// `notify_url`, or the coupon callback URL the merchant set).
    pub(crate) notify_url: String,
    /// The resource in clear: the JSON the merchant reads after
    /// decrypting `resource.ciphertext`. For an APIv2 notification, the
    /// flat object of its members (strings).
    pub(crate) resource: Value,
    /// `Some` for an APIv2 notification (XML, see [`crate::handlers::v2`]) instead
    /// of an APIv3 callback.
    pub(crate) v2: Option<V2Notice>,
}

/// Which APIv2 notification an [`Event`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum V2Notice {
    /// The payment result: the members, signed (MD5) with the APIv2 key.
    Payment,
    /// The refund result: the members encrypted into `req_info`.
    Refund,
}

/// The sending end, kept in the server's shared state.
#[derive(Debug, Clone)]
pub(crate) struct EventSink(UnboundedSender<Event>);

impl EventSink {
    /// A sink and the receiver the delivery task reads.
    pub(crate) fn new() -> (EventSink, UnboundedReceiver<Event>) {
        let (sender, receiver) = unbounded_channel();
        (EventSink(sender), receiver)
    }

    /// Queues `event` for delivery. An event sent while the sandbox is
    /// shutting down (the receiver gone) is dropped with a warning: nobody
    /// is left to deliver it.
    pub(crate) fn send(&self, event: Event) {
        if let Err(error) = self.0.send(event) {
            tracing::warn!(
                event_type = error.0.event_type,
                "the sandbox is stopping; a callback was not delivered"
            );
        }
    }
}
