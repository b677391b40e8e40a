// The markers of an upload of another form: where they belong, one per
// field, one `meta`, a part name that can be sent.

use wxpay::media::MediaFile;

#[derive(serde::Deserialize)]
pub struct Uploaded {}

#[derive(serde::Serialize)]
pub struct Meta {
    pub file_name: String,
}

#[wxpay::endpoint(POST, "/v3/things", response = Uploaded)]
pub struct NotAnUpload {
    #[wxpay(meta)]
    pub meta: Meta,
    #[wxpay(form)]
    pub item_id: u32,
}

#[wxpay::endpoint(POST, "/v3/things/<id>/upload", response = Uploaded, multipart)]
pub struct MarkersElsewhere {
    #[wxpay(form)]
    pub id: String,
    #[wxpay(query, meta)]
    pub sub_mchid: String,
    pub file: MediaFile,
}

#[wxpay::endpoint(POST, "/v3/things/upload", response = Uploaded, multipart)]
pub struct TwoMarkers {
    #[wxpay(meta, form)]
    pub meta: Meta,
    #[wxpay(part = "meta")]
    pub file: MediaFile,
}

#[wxpay::endpoint(POST, "/v3/things/upload", response = Uploaded, multipart)]
pub struct TwoMetas {
    #[wxpay(meta)]
    pub meta: Meta,
    #[wxpay(meta)]
    pub other_meta: Meta,
    pub file: MediaFile,
    #[wxpay(form)]
    #[serde(rename = "itemId")]
    pub item_id: u32,
}

#[wxpay::endpoint(POST, "/v3/things/upload", response = Uploaded, multipart)]
pub struct OnlyForm {
    #[wxpay(form)]
    pub item_id: u32,
}

fn main() {}
