//! Checking an APIv2 answer: `return_code`, signature, `result_code`.

use serde::de::DeserializeOwned;

use super::{Fields, SignType, V2Error, V2Key, verify};

/// `SUCCESS`, the value of a good `return_code` / `result_code`.
pub(crate) const SUCCESS: &str = "SUCCESS";

/// Reads and checks an APIv2 answer, answering all its fields.
///
/// In order: the XML is read; a `return_code` other than `SUCCESS` is
/// [`V2Error::Return`] (those answers are not signed); when `signed`, the
/// `sign` is checked with `sign_type` (the request's), and a missing one is
/// [`V2Error::Unsigned`]; a `result_code` other than `SUCCESS` is
/// [`V2Error::Business`].
///
/// # Errors
/// As above, and [`V2Error::Xml`] for a body that is not an APIv2 document.
pub fn answer_fields(
    body: &[u8],
    key: &V2Key,
    sign_type: SignType,
    signed: bool,
) -> Result<Fields, V2Error> {
    let fields = Fields::from_xml(body)?;
    check_return_code(&fields)?;
    if signed {
        verify(&fields, key, sign_type)?;
    }
    if let Some(result) = fields.get("result_code")
        && result != SUCCESS
    {
        return Err(V2Error::Business {
            err_code: fields.get("err_code").unwrap_or_default().to_owned(),
            err_code_des: fields.get("err_code_des").unwrap_or_default().to_owned(),
        });
    }
    Ok(fields)
}

/// [`answer_fields`], then the fields decoded as `T`.
///
/// # Errors
/// Those of [`answer_fields`], and [`V2Error::Decode`] when the fields do
/// not fit `T`.
pub fn decode_answer<T: DeserializeOwned>(
    body: &[u8],
    key: &V2Key,
    sign_type: SignType,
    signed: bool,
) -> Result<T, V2Error> {
    Ok(answer_fields(body, key, sign_type, signed)?.decode()?)
}

/// `return_code` must be `SUCCESS`.
pub(crate) fn check_return_code(fields: &Fields) -> Result<(), V2Error> {
    match fields.get("return_code") {
        Some(SUCCESS) => Ok(()),
        Some(_) => Err(V2Error::Return {
            return_msg: fields.get("return_msg").unwrap_or_default().to_owned(),
        }),
        None => Err(V2Error::NoReturnCode),
    }
}
