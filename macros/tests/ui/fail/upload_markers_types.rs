// The `meta` of an upload must be `Serialize`.

use wxpay::media::MediaFile;

#[derive(serde::Deserialize)]
pub struct Uploaded {}

pub struct NotSerialize {
    pub file_name: String,
}

#[wxpay::endpoint(POST, "/v3/things/upload", response = Uploaded, multipart)]
pub struct MetaNotSerialize {
    pub file: MediaFile,
    #[wxpay(meta)]
    pub meta: NotSerialize,
}

fn main() {}
