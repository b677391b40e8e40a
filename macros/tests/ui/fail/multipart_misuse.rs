// `multipart` uploads are POST requests whose one body field is the file.

use wxpay::media::MediaFile;

#[derive(serde::Deserialize)]
pub struct Uploaded {}

#[wxpay::endpoint(GET, "/v3/merchant/media/upload", response = Uploaded, multipart)]
pub struct NotPost {
    pub file: MediaFile,
}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload", response = Uploaded, multipart)]
pub struct NoFile {}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload", response = Uploaded, multipart)]
pub struct TwoParts {
    pub file: MediaFile,
    pub note: String,
}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload", response = Uploaded, multipart = "video")]
pub struct LimitsAsText {
    pub file: MediaFile,
}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload", response = Uploaded, multipart)]
pub struct EncryptedFile {
    #[wxpay(encrypt)]
    pub file: MediaFile,
}

fn main() {}
