//! [`Failure`]: why a command failed, its exit status and how it is shown.

use std::path::Path;
use std::process::ExitCode;

use wxpay::{ApiError, Report};

/// Why a command failed. Each kind has its own exit status (see the crate
/// docs); [`Failure::render`] gives the lines printed on stderr.
#[derive(Debug)]
pub enum Failure {
    /// Wrong usage: a missing or unusable setting, an unreadable input
    /// file, bad JSON. Exit status 2, like clap's own usage errors.
    Usage(String),
    /// The server answered with an error status. Exit status 3.
    Api(Box<ApiError>),
    /// An APIv2 answer refused the request (`return_code` FAIL) or
    /// reported the operation failed (`result_code` FAIL). Exit status 3,
    /// like an APIv3 error answer.
    Answered(String),
    /// An answer or a callback was rejected (signature, timestamp,
    /// decryption). Exit status 4.
    Rejected(String),
    /// Anything else: no answer, a file that cannot be written, the
    /// sandbox failing. Exit status 1.
    Other(String),
}

impl Failure {
    /// A [`Failure::Usage`] from any message.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// An unreadable input file, naming the flag it came from.
    pub fn read(flag: &str, path: &Path, error: &std::io::Error) -> Self {
        Failure::Usage(format!("{flag}: cannot read `{}`: {error}", path.display()))
    }

    /// A file or folder that cannot be written.
    pub fn write(path: &Path, error: &std::io::Error) -> Self {
        Failure::Other(format!("cannot write `{}`: {error}", path.display()))
    }

    /// The process exit status for this failure.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Other(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Api(_) | Failure::Answered(_) => 3,
            Failure::Rejected(_) => 4,
        })
    }

    /// The lines shown on stderr; the first one is the headline.
    pub fn render(&self) -> Vec<String> {
        match self {
            Failure::Usage(message)
            | Failure::Rejected(message)
            | Failure::Other(message)
            | Failure::Answered(message) => message.lines().map(str::to_owned).collect(),
            Failure::Api(api) => render_api(api),
        }
    }
}

/// An error answer over several lines: status and code, then the message,
/// the detail, the `Request-ID`, whether it was signed, and a hint.
fn render_api(api: &ApiError) -> Vec<String> {
    let mut headline = format!("the server answered HTTP {}", api.status.as_u16());
    if !api.code.is_empty() {
        headline.push(' ');
        headline.push_str(&api.code);
    }
    let mut lines = vec![headline];
    if !api.message.is_empty() {
        lines.push(format!("  message: {}", api.message));
    }
    if let Some(detail) = &api.detail {
        lines.push(format!("  detail: {detail}"));
    }
    if let Some(id) = &api.request_id {
        lines.push(format!("  Request-ID: {id}"));
    }
    if api.attempts > 1 {
        lines.push(format!(
            "  attempts: {} (the last one's answer is shown; {} attempts were made)",
            api.attempts, api.attempts
        ));
    }
    if !api.authenticated {
        lines.push(
            "  note: this error answer carried no valid WeChat Pay signature, so anyone on the way could have written it"
                .to_owned(),
        );
    }
    if api.status == 401 || api.code == "SIGN_ERROR" {
        lines.push(
            "  hint: check WXPAY_MCHID, WXPAY_SERIAL and WXPAY_PRIVATE_KEY_FILE; `wxpay sign` shows the signing message to compare with the server's"
                .to_owned(),
        );
    }
    lines
}

impl From<wxpay::Error> for Failure {
    fn from(error: wxpay::Error) -> Self {
        match error {
            wxpay::Error::Api(api) => Failure::Api(api),
            wxpay::Error::Config(config) => Failure::Usage(Report::new(&config).to_string()),
            wxpay::Error::Build { source, .. } => Failure::Usage(format!(
                "the request cannot be built: {}",
                Report::new(&source)
            )),
            wxpay::Error::Verification {
                status,
                request_id,
                source,
                ..
            } => Failure::Rejected(format!(
                "the HTTP {} answer was rejected: {}; its body was not used{}",
                status.as_u16(),
                Report::new(&source),
                request_id
                    .map(|id| format!("\n  Request-ID: {id}"))
                    .unwrap_or_default()
            )),
            wxpay::Error::Certificates(source) => Failure::Rejected(format!(
                "the platform certificates were rejected: {}",
                Report::new(&source)
            )),
            other => Failure::Other(other.report().to_string()),
        }
    }
}
