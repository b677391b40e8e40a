//! `wxpay certificates --out DIR`: download the platform certificates
//! (certificate mode) and write one PEM file each.

use std::path::PathBuf;

use clap::Args;

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, ApiV3Args, MerchantArgs, ServerArgs, Verification};

/// Arguments of `wxpay certificates`.
#[derive(Args)]
#[command(
    after_help = "Downloads GET /v3/certificates, decrypts each certificate with the APIv3 key, \
    and keeps them only if the answer's own signature verifies with one of them. Writes \
    DIR/<serial>.pem per certificate valid now (replacing a file of that name; a symbolic link \
    there is refused) and prints its serial and validity (UTC)."
)]
pub struct CertificatesArgs {
    /// The folder to write `<serial>.pem` files into (created if needed)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    merchant: MerchantArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// Runs `wxpay certificates`.
pub async fn run(mut args: CertificatesArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    let profile = profile.selected()?;
    args.server.fill(profile.as_ref());
    args.merchant.fill(profile.as_ref());
    args.apiv3.resolve(profile.as_ref())?;
    let client = settings::client(
        &args.server,
        &args.merchant,
        Verification::DownloadOnly(&args.apiv3),
    )?;
    client.refresh_certificates().await?;
    std::fs::create_dir_all(&args.out).map_err(|error| Failure::write(&args.out, &error))?;
    let verifier = client.verifier();
    let mut certificates: Vec<_> = verifier.certificates().collect();
    certificates.sort_by_key(|certificate| std::cmp::Reverse(certificate.not_after()));
    for certificate in certificates {
        let path = args.out.join(format!("{}.pem", certificate.serial()));
        // A certificate downloaded again replaces its file; a symbolic link
        // there is refused rather than followed.
        crate::files::write_file(&path, certificate.pem().as_bytes(), 0o644)?;
        output::line(&format!(
            "{}  valid {} to {}  {}",
            certificate.serial(),
            utc(certificate.not_before()),
            utc(certificate.not_after()),
            path.display()
        ))?;
    }
    Ok(())
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let seconds = unix_seconds.rem_euclid(86_400);
    // Days to a civil date, after Howard Hinnant's `civil_from_days`.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3_600,
        seconds % 3_600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn unix_seconds_become_utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_554_208_460), "2019-04-02T12:34:20Z");
        assert_eq!(utc(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59Z");
    }
}
