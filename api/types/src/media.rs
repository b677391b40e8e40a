//! The upload answers, which the catalogue's upload operations answer
//! (`codegen/src/overrides.rs`); `wxpay` re-exports them as
//! `wxpay::api::media`.

use serde::{Deserialize, Serialize};

/// The answer to the image, video and complaint image uploads
/// (`UploadImage`, `UploadVideo`, `UploadComplaintImage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaUploaded {
    /// 媒体文件标识Id: the id other operations take.
    pub media_id: String,
}

/// The answer to the marketing image upload (`UploadMarketingImage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MarketingImageUploaded {
    /// 媒体文件URL地址: where the image is served.
    pub media_url: String,
}
