//! Media uploads: images and videos, sent as `multipart/form-data` whose
//! `meta` JSON is what the request signature covers (see
//! [`wxpay::media`](crate::media)).
//!
//! Each operation takes one [`MediaFile`](crate::media::MediaFile); the
//! size and type limits are checked when the request is built, so a file
//! WeChat Pay would refuse is never sent
//! ([`BuildError::Media`](crate::BuildError::Media)). The operations are
//! the catalogue's, named here as before; they answer this module's
//! [`MediaUploaded`] and [`MarketingImageUploaded`]
//! (`codegen/src/overrides.rs`).

/// 图片上传 — uploads an image (`POST /v3/merchant/media/upload`) and
/// answers its `media_id`, which other operations take: the catalogue's
/// [`media::upload::Post`](crate::api::v3::merchant::media::upload::Post).
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE)
/// (jpg, jpeg, png, bmp; at most 2 MiB).
///
/// ```no_run
/// # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay::api::media::UploadImage;
/// use wxpay::media::MediaFile;
///
/// let file = MediaFile::from_path_async("shop-front.jpg").await?;
/// let uploaded = client.send(UploadImage { file }).await?;
/// println!("media_id {}", uploaded.media_id);
/// # Ok(()) }
/// ```
#[cfg(feature = "merchant")]
pub type UploadImage = crate::api::v3::merchant::media::upload::Post;

/// 视频上传 — uploads a video (`POST /v3/merchant/media/video_upload`) and
/// answers its `media_id`: the catalogue's
/// [`media::video_upload::Post`](crate::api::v3::merchant::media::video_upload::Post).
///
/// Limits: [`MediaLimits::VIDEO`](crate::media::MediaLimits::VIDEO) (avi,
/// wmv, mpeg, mp4, mov, mkv, flv, f4v, m4v, rmvb; at most 5 MiB).
#[cfg(feature = "merchant")]
pub type UploadVideo = crate::api::v3::merchant::media::video_upload::Post;

/// （营销）图片上传 — uploads an image for marketing tools (coupons,
/// merchant coupons, 支付有礼) (`POST /v3/marketing/favor/media/image-upload`)
/// and answers its URL: the catalogue's
/// [`media::image_upload::Post`](crate::api::v3::marketing::favor::media::image_upload::Post).
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE).
#[cfg(feature = "marketing-favor")]
pub type UploadMarketingImage = crate::api::v3::marketing::favor::media::image_upload::Post;

/// 商户上传反馈图片 — uploads an image for a consumer complaint reply
/// (`POST /v3/merchant-service/images/upload`) and answers its `media_id`:
/// the catalogue's
/// [`images::upload::Post`](crate::api::v3::merchant_service::images::upload::Post).
///
/// Limits: [`MediaLimits::IMAGE`](crate::media::MediaLimits::IMAGE).
#[cfg(feature = "merchant-service")]
pub type UploadComplaintImage = crate::api::v3::merchant_service::images::upload::Post;

pub use wxpay_api_types::media::{MarketingImageUploaded, MediaUploaded};
