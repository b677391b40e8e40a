//! The notification envelope: the JSON around the encrypted resource.

use serde::{Deserialize, Deserializer};

use super::error::{NotificationError, json_path};
use super::event::EventType;

/// The callback body as WeChat Pay sends it.
#[derive(Deserialize)]
pub(super) struct Envelope {
    pub(super) id: String,
    pub(super) create_time: String,
    pub(super) event_type: EventType,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) resource_type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) summary: String,
    pub(super) resource: EncryptedResource,
}

/// `resource`: what to decrypt and how.
#[derive(Deserialize)]
pub(super) struct EncryptedResource {
    pub(super) algorithm: String,
    pub(super) nonce: String,
    pub(super) ciphertext: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) associated_data: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) original_type: String,
}

impl Envelope {
    /// Reads the envelope from the (already verified) body; trailing bytes
    /// after the JSON document are an error too.
    pub(super) fn parse(body: &[u8]) -> Result<Self, NotificationError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let envelope: Envelope =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                NotificationError::Envelope {
                    path: json_path(error.path()),
                    source: error.into_inner(),
                }
            })?;
        deserializer
            .end()
            .map_err(|source| NotificationError::Envelope {
                path: ".".to_owned(),
                source,
            })?;
        Ok(envelope)
    }
}

/// An optional string that may also be `null`.
fn nullable<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}
