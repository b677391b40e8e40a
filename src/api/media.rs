//! Media uploads: images and videos, sent as `multipart/form-data` whose
//! `meta` JSON is what the request signature covers (see
//! [`wxpay::media`](crate::media)).
//!
//! Each operation takes one [`MediaFile`]; the size and type limits are
//! checked when the request is built, so a file WeChat Pay would refuse is
//! never sent ([`BuildError::Media`](crate::BuildError::Media)).
//!
//! ```no_run
//! # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use wxpay::api::media::UploadImage;
//! use wxpay::media::MediaFile;
//!
//! let file = MediaFile::from_path_async("shop-front.jpg").await?;
//! let uploaded = client.send(UploadImage { file }).await?;
//! println!("media_id {}", uploaded.media_id);
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::media::MediaFile;

/// 图片上传 — uploads an image (`POST /v3/merchant/media/upload`) and
/// answers its `media_id`, which other operations take.
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE)
/// (jpg, jpeg, png, bmp; at most 2 MiB).
#[crate::endpoint(POST, "/v3/merchant/media/upload", response = MediaUploaded, multipart)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadImage {
    /// The image.
    pub file: MediaFile,
}

/// 视频上传 — uploads a video (`POST /v3/merchant/media/video_upload`) and
/// answers its `media_id`.
///
/// Limits: [`MediaLimits::VIDEO`](crate::media::MediaLimits::VIDEO) (avi,
/// wmv, mpeg, mp4, mov, mkv, flv, f4v, m4v, rmvb; at most 5 MiB).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/tool/chapter3_2.shtml)
#[crate::endpoint(
    POST,
    "/v3/merchant/media/video_upload",
    response = MediaUploaded,
    multipart = crate::media::MediaLimits::VIDEO
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadVideo {
    /// The video.
    pub file: MediaFile,
}

/// （营销）图片上传 — uploads an image for marketing tools (coupons,
/// merchant coupons, 支付有礼) (`POST /v3/marketing/favor/media/image-upload`)
/// and answers its URL.
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/tool/chapter3_1.shtml)
#[crate::endpoint(
    POST,
    "/v3/marketing/favor/media/image-upload",
    response = MarketingImageUploaded,
    multipart
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMarketingImage {
    /// The image.
    pub file: MediaFile,
}

/// 商户上传反馈图片 — uploads an image for a consumer complaint reply
/// (`POST /v3/merchant-service/images/upload`) and answers its `media_id`.
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE).
///
/// [Official documentation](https://pay.weixin.qq.com/docs/partner/apis/consumer-complaint/images/create-images.html)
#[crate::endpoint(
    POST,
    "/v3/merchant-service/images/upload",
    response = MediaUploaded,
    multipart
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadComplaintImage {
    /// The image.
    pub file: MediaFile,
}

/// The answer to [`UploadImage`], [`UploadVideo`] and
/// [`UploadComplaintImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaUploaded {
    /// 媒体文件标识Id: the id other operations take.
    pub media_id: String,
}

/// The answer to [`UploadMarketingImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MarketingImageUploaded {
    /// 媒体文件URL地址: where the image is served.
    pub media_url: String,
}
