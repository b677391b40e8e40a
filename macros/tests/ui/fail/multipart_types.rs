// The file field must be a `MediaFile`, and the limits a `MediaLimits`.

use wxpay::media::MediaFile;

#[derive(serde::Deserialize)]
pub struct Uploaded {}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload", response = Uploaded, multipart)]
pub struct BytesNotAFile {
    pub file: Vec<u8>,
}

const VIDEO: u64 = 5 * 1024 * 1024;

#[wxpay::endpoint(POST, "/v3/merchant/media/video_upload", response = Uploaded, multipart = VIDEO)]
pub struct LimitsOfTheWrongType {
    pub file: MediaFile,
}

fn main() {}
