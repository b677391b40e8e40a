//! Profiles: named sets of settings for several merchants in one TOML
//! file, picked with `--profile NAME` (or `WXPAY_PROFILE`), below flags
//! and variables.
//!
//! ```toml
//! default_profile = "shop"
//!
//! [profiles.shop]
//! mchid = "1900009191"
//! serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
//! private_key_file = "shop/apiclient_key.pem"   # relative: to this file's folder
//! public_key_id = "PUB_KEY_ID_0114232134912410000000000000"
//! public_key_file = "shop/pub_key.pem"
//! apiv3_key_file = "shop/apiv3.key"
//! ```
//!
//! The file is `--config FILE`, else `WXPAY_CONFIG`, else
//! `$XDG_CONFIG_HOME/wxpay/config.toml`, else `~/.config/wxpay/config.toml`.
//! A file named by flag or variable must exist; the default one may be
//! missing (then there are no profiles). Relative paths in a profile are
//! taken from the config file's folder, `~/…` from the home folder. Unknown keys are refused, naming
//! the key and the file, so that a typo does not silently leave a setting
//! unset.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;
use serde::de::{self, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroizing;

use crate::error::Failure;

/// `--config` and `--profile`, given before or after the subcommand.
#[derive(Args, Clone, Default)]
pub struct ProfileArgs {
    /// The config file with the profiles [default: $XDG_CONFIG_HOME/wxpay/config.toml or ~/.config/wxpay/config.toml]
    #[arg(
        long,
        global = true,
        env = "WXPAY_CONFIG",
        value_name = "FILE",
        help_heading = "Profile"
    )]
    pub config: Option<PathBuf>,

    /// The profile of the config file to take settings from (flags and WXPAY_… variables win over it)
    #[arg(
        long,
        global = true,
        env = "WXPAY_PROFILE",
        value_name = "NAME",
        help_heading = "Profile"
    )]
    pub profile: Option<String>,
}

/// One profile's settings, paths already resolved against the config
/// file's folder. `Debug` hides the APIv3 key, held in a buffer wiped on
/// drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    /// `base_url`.
    pub base_url: Option<String>,
    /// `timeout`, in seconds.
    pub timeout: Option<u64>,
    /// `mchid` (a string, or a number in the file).
    pub mchid: Option<String>,
    /// `serial`.
    pub serial: Option<String>,
    /// `private_key_file`.
    pub private_key_file: Option<PathBuf>,
    /// `public_key_id`.
    pub public_key_id: Option<String>,
    /// `public_key_file`.
    pub public_key_file: Option<PathBuf>,
    /// `platform_cert_file`.
    pub platform_cert_file: Option<PathBuf>,
    /// `apiv3_key`: a secret, never shown.
    pub apiv3_key: Option<Zeroizing<String>>,
    /// `apiv3_key_file`.
    pub apiv3_key_file: Option<PathBuf>,
    /// `v2_key_file`: the APIv2 key (`wxpay v2`).
    pub v2_key_file: Option<PathBuf>,
    /// `v2_client_cert_file`: the API client certificate, `.p12` or PEM
    /// (`wxpay v2`).
    pub v2_client_cert_file: Option<PathBuf>,
    /// `v2_client_key_file`: its private key when the certificate is PEM.
    pub v2_client_key_file: Option<PathBuf>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field("private_key_file", &self.private_key_file)
            .field("public_key_id", &self.public_key_id)
            .field("public_key_file", &self.public_key_file)
            .field("platform_cert_file", &self.platform_cert_file)
            .field("apiv3_key", &self.apiv3_key.as_ref().map(|_| "<hidden>"))
            .field("apiv3_key_file", &self.apiv3_key_file)
            .field("v2_key_file", &self.v2_key_file)
            .field("v2_client_cert_file", &self.v2_client_cert_file)
            .field("v2_client_key_file", &self.v2_client_key_file)
            .finish()
    }
}

/// The keys a profile may hold, in the order they are listed.
pub const PROFILE_KEYS: [&str; 13] = [
    "base_url",
    "timeout",
    "mchid",
    "serial",
    "private_key_file",
    "public_key_id",
    "public_key_file",
    "platform_cert_file",
    "apiv3_key",
    "apiv3_key_file",
    "v2_key_file",
    "v2_client_cert_file",
    "v2_client_key_file",
];

impl Profile {
    /// The keys this profile sets, each with its value as shown to people
    /// (the APIv3 key as `<hidden>`), in [`PROFILE_KEYS`] order.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let values = [
            self.base_url.clone(),
            self.timeout.map(|t| t.to_string()),
            self.mchid.clone(),
            self.serial.clone(),
            path(&self.private_key_file),
            self.public_key_id.clone(),
            path(&self.public_key_file),
            path(&self.platform_cert_file),
            self.apiv3_key.as_ref().map(|_| "<hidden>".to_owned()),
            path(&self.apiv3_key_file),
            path(&self.v2_key_file),
            path(&self.v2_client_cert_file),
            path(&self.v2_client_key_file),
        ];
        PROFILE_KEYS
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| value.map(|value| (key, value)))
            .collect()
    }
}

/// A config file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `default_profile`, if set (it names a profile of the file).
    pub default_profile: Option<String>,
    /// The profiles by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the config file is looked for, and whether it must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigPath {
    /// Named by `--config` or `WXPAY_CONFIG`: it must exist.
    Given(PathBuf),
    /// The default place: it may be missing.
    Default(PathBuf),
    /// No default place: no home folder is known (`HOME` is not set, nor
    /// found in the user database).
    None,
}

impl ConfigPath {
    /// The path, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigPath::Given(path) | ConfigPath::Default(path) => Some(path),
            ConfigPath::None => None,
        }
    }
}

/// The default config file: `$XDG_CONFIG_HOME/wxpay/config.toml` (when
/// that is an absolute path, as the XDG spec asks), else
/// `$HOME/.config/wxpay/config.toml`, by etcetera's XDG strategy on every
/// platform (its native one would be `~/Library/Application Support` on
/// macOS and `AppData` on Windows, against what `--help` says). `None`
/// when no home folder is known.
fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy as _;
    let config = etcetera::base_strategy::Xdg::new().ok()?.config_dir();
    // An empty HOME would make it relative: no default place then.
    config
        .is_absolute()
        .then(|| config.join("wxpay").join("config.toml"))
}

impl ProfileArgs {
    /// Where the config file is.
    pub fn config_path(&self) -> ConfigPath {
        match &self.config {
            Some(path) => ConfigPath::Given(path.clone()),
            None => match default_path() {
                Some(path) => ConfigPath::Default(path),
                None => ConfigPath::None,
            },
        }
    }

    /// Reads the config file: `None` when the default one does not exist.
    ///
    /// # Errors
    /// A usage failure for a given file that cannot be read, and for a
    /// file that is not a valid config (naming the file and what is wrong).
    pub fn read_config(&self) -> Result<Option<ConfigFile>, Failure> {
        let (path, given) = match self.config_path() {
            ConfigPath::Given(path) => (path, true),
            ConfigPath::Default(path) => (path, false),
            ConfigPath::None => return Ok(None),
        };
        // The file may hold the APIv3 key: its text is wiped after parsing.
        let text = match crate::files::read_protected(&path) {
            Ok((text, _)) => text,
            Err(error) if !given && error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(error) => {
                let flag = if given {
                    "--config (or WXPAY_CONFIG)"
                } else {
                    "the config file"
                };
                return Err(Failure::read(flag, &path, &error));
            }
        };
        parse_config(&text, &path).map(Some)
    }

    /// The selected profile: `--profile`, else `WXPAY_PROFILE`, else the
    /// file's `default_profile`; `None` when none is selected.
    ///
    /// # Errors
    /// Those of [`ProfileArgs::read_config`]; a profile asked for when
    /// there is no config file; a profile the file does not have (listing
    /// those it has).
    pub fn selected(&self) -> Result<Option<Profile>, Failure> {
        let config = self.read_config()?;
        let Some(config) = config else {
            return match &self.profile {
                None => Ok(None),
                Some(name) => Err(Failure::usage(format!(
                    "profile `{name}` (--profile or WXPAY_PROFILE) asked for, but there is no config file{}; \
                     write one or name it with --config or WXPAY_CONFIG",
                    self.config_path()
                        .path()
                        .map(|path| format!(" at `{}`", path.display()))
                        .unwrap_or_default()
                ))),
            };
        };
        let Some(name) = self.profile.as_ref().or(config.default_profile.as_ref()) else {
            return Ok(None);
        };
        match config.profiles.get(name) {
            Some(profile) => {
                if profile.apiv3_key.is_some() {
                    warn_if_readable_by_others(&config.path, name);
                }
                Ok(Some(profile.clone()))
            }
            None => Err(Failure::usage(format!(
                "there is no profile `{name}` in `{}`; {}",
                config.path.display(),
                known(&config)
            ))),
        }
    }
}

/// Runs `wxpay profiles`: the config file's path, then each profile (or
/// only the one `--profile` names) with the keys it sets and their values,
/// the APIv3 key shown as `<hidden>`.
///
/// # Errors
/// Those of [`ProfileArgs::read_config`], and an unknown `--profile`.
pub fn run_profiles(args: &ProfileArgs) -> Result<(), Failure> {
    let Some(config) = args.read_config()? else {
        let place = args
            .config_path()
            .path()
            .map(|path| format!(" at `{}`", path.display()))
            .unwrap_or_else(|| " (no home folder is known: HOME is not set)".to_owned());
        if let Some(name) = &args.profile {
            return Err(Failure::usage(format!(
                "profile `{name}` asked for, but there is no config file{place}"
            )));
        }
        crate::output::note(&format!(
            "no config file{place}; write one with [profiles.NAME] tables, or name it with --config or WXPAY_CONFIG"
        ));
        return Ok(());
    };
    let selected = args.profile.as_ref().or(config.default_profile.as_ref());
    if let Some(name) = &args.profile
        && !config.profiles.contains_key(name)
    {
        return Err(Failure::usage(format!(
            "there is no profile `{name}` in `{}`; {}",
            config.path.display(),
            known(&config)
        )));
    }
    let mut text = format!("config file: {}\n", config.path.display());
    if config.profiles.is_empty() {
        text.push_str("no profiles (add a [profiles.NAME] table)\n");
    }
    for (name, profile) in &config.profiles {
        if args.profile.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        let mut marks = Vec::new();
        if config.default_profile.as_ref() == Some(name) {
            marks.push("default");
        }
        if selected == Some(name) {
            marks.push("selected");
        }
        text.push_str(&format!("profile {name}"));
        if !marks.is_empty() {
            text.push_str(&format!(" ({})", marks.join(", ")));
        }
        text.push('\n');
        let shown = profile.shown();
        if shown.is_empty() {
            text.push_str("  (sets nothing)\n");
        }
        for (key, value) in shown {
            text.push_str(&format!("  {key} = {value}\n"));
        }
    }
    crate::output::stdout(text.as_bytes())
}

/// Says on stderr when `path`, which holds the APIv3 key of profile
/// `name`, can be read by other users (Unix permissions).
fn warn_if_readable_by_others(path: &Path, name: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            crate::output::note(&format!(
                "warning: `{}` holds the APIv3 key of profile `{name}` and other users can read it; \
                 `chmod 600` it, or move the key to an apiv3_key_file only you can read",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, name);
}

/// "its profiles are: a, b" or "it has no profiles".
fn known(config: &ConfigFile) -> String {
    if config.profiles.is_empty() {
        "it has no profiles (add a [profiles.NAME] table)".to_owned()
    } else {
        let names: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
        format!("its profiles are: {}", names.join(", "))
    }
}

/// Parses and checks a config file's text; `path` names it in errors and
/// anchors relative paths.
///
/// # Errors
/// A usage failure naming the file and what is wrong: invalid TOML, an
/// unknown key (and where), a value of the wrong type, both `apiv3_key`
/// and `apiv3_key_file` in one profile, a `default_profile` that is not
/// one of the profiles. The message is toml's `message()`, never its
/// `Display`, which quotes the offending line (it may be the APIv3 key's);
/// and no value this file's types refuse is echoed in it (see [`Secret`]).
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, Failure> {
    let shown = path.display();
    // Syntax first: its errors name the line (the span is where the text
    // went wrong); the typed pass's name the key instead.
    toml::from_str::<IgnoredAny>(text).map_err(|error| {
        let line = error.span().map(|span| {
            let end = span.start.min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        });
        Failure::usage(format!(
            "the config file `{shown}` is not valid TOML{}: {}",
            line.map(|line| format!(" (line {line})"))
                .unwrap_or_default(),
            error.message().trim_end()
        ))
    })?;
    let file: FileToml = toml::from_str(text).map_err(|mut error| {
        // Without the input, `Display` is the message and the key it is
        // at; with it, it would quote the line.
        error.set_input(None);
        let message = keyed(&error, None);
        let comma = if message.starts_with(PROFILE_ERROR) {
            ","
        } else {
            ":"
        };
        Failure::usage(format!("the config file `{shown}`{comma} {message}"))
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut config = ConfigFile {
        path: path.to_owned(),
        default_profile: file.default_profile,
        profiles: BTreeMap::new(),
    };
    for (name, profile) in file.profiles.0 {
        let profile = profile.resolve(&name, folder).map_err(|why| {
            Failure::usage(format!(
                "the config file `{shown}`, profile `{name}`: {why}"
            ))
        })?;
        config.profiles.insert(name, profile);
    }
    if let Some(name) = &config.default_profile
        && !config.profiles.contains_key(name)
    {
        return Err(Failure::usage(format!(
            "the config file `{shown}`: default_profile `{name}` is not one of its profiles; {}",
            known(&config)
        )));
    }
    Ok(config)
}

/// A deserializing error without its input (`message` then, on a line of
/// its own, "in `KEY`") as one line: "`KEY`: message", the key left out
/// when the message names it already or is a profile's (see [`Profiles`]).
/// serde's "unknown field" is said "unknown key", as TOML has keys.
/// `profile` is the profile the error is in, whose name starts the key.
fn keyed(error: &dyn fmt::Display, profile: Option<&str>) -> String {
    let text = error.to_string();
    let text = text.trim_end().replacen("unknown field", "unknown key", 1);
    match text.rsplit_once("\nin `") {
        Some((message, key)) => {
            let key = key.strip_suffix('`').unwrap_or(key);
            let key = match profile {
                Some(name) if key == name => return message.to_owned(),
                Some(name) => key
                    .strip_prefix(name)
                    .and_then(|key| key.strip_prefix('.'))
                    .unwrap_or(key),
                None => key,
            };
            if message.starts_with(PROFILE_ERROR) || message.contains(&format!("`{key}`")) {
                message.to_owned()
            } else {
                format!("`{key}`: {message}")
            }
        }
        None => text,
    }
}

/// What a profile's error message starts with (see [`Profiles`]).
const PROFILE_ERROR: &str = "profile `";

/// The file as written: `default_profile` and `[profiles.NAME]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    /// `default_profile`: a profile's name.
    default_profile: Option<String>,
    /// `[profiles.NAME]`.
    #[serde(default)]
    profiles: Profiles,
}

/// The `[profiles.NAME]` tables; an error in one names its profile.
#[derive(Default)]
struct Profiles(BTreeMap<String, ProfileToml>);

impl<'de> Deserialize<'de> for Profiles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Tables;
        impl<'de> Visitor<'de> for Tables {
            type Value = Profiles;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tables, like [profiles.NAME]")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Profiles, A::Error> {
                let mut profiles = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let profile = map.next_value::<ProfileToml>().map_err(|error| {
                        A::Error::custom(format!(
                            "{PROFILE_ERROR}{name}`: {}",
                            keyed(&error, Some(&name))
                        ))
                    })?;
                    profiles.insert(name, profile);
                }
                Ok(Profiles(profiles))
            }
        }
        deserializer.deserialize_map(Tables)
    }
}

/// One `[profiles.NAME]` table as written, before its paths are resolved.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table, like [profiles.NAME]")]
struct ProfileToml {
    base_url: Option<String>,
    timeout: Option<Seconds>,
    mchid: Option<Mchid>,
    serial: Option<String>,
    private_key_file: Option<String>,
    public_key_id: Option<String>,
    public_key_file: Option<String>,
    platform_cert_file: Option<String>,
    apiv3_key: Option<Secret>,
    apiv3_key_file: Option<String>,
    v2_key_file: Option<String>,
    v2_client_cert_file: Option<String>,
    v2_client_key_file: Option<String>,
}

impl ProfileToml {
    /// The profile `name`, its paths resolved against `folder`; the error
    /// says what is wrong in it.
    fn resolve(self, name: &str, folder: &Path) -> Result<Profile, String> {
        if self.apiv3_key.is_some() && self.apiv3_key_file.is_some() {
            return Err("both `apiv3_key` and `apiv3_key_file` are set; keep one".into());
        }
        let file = |text: Option<String>| text.map(|text| resolve(folder, &text));
        Ok(Profile {
            name: name.to_owned(),
            base_url: self.base_url,
            timeout: self.timeout.map(|Seconds(seconds)| seconds),
            mchid: self.mchid.map(|Mchid(mchid)| mchid),
            serial: self.serial,
            private_key_file: file(self.private_key_file),
            public_key_id: self.public_key_id,
            public_key_file: file(self.public_key_file),
            platform_cert_file: file(self.platform_cert_file),
            apiv3_key: self.apiv3_key.map(|Secret(key)| key),
            apiv3_key_file: file(self.apiv3_key_file),
            v2_key_file: file(self.v2_key_file),
            v2_client_cert_file: file(self.v2_client_cert_file),
            v2_client_key_file: file(self.v2_client_key_file),
        })
    }
}

/// `timeout`: a whole number of seconds, 1 or more.
struct Seconds(u64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let refused = || D::Error::custom("`timeout` must be a whole number of seconds, 1 or more");
        match i64::deserialize(deserializer) {
            Ok(seconds) if seconds >= 1 => {
                u64::try_from(seconds).map(Seconds).map_err(|_| refused())
            }
            _ => Err(refused()),
        }
    }
}

/// `mchid`: a string, or a number (not negative) in the file.
struct Mchid(String);

impl<'de> Deserialize<'de> for Mchid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(u64),
            Text(String),
        }
        match Written::deserialize(deserializer) {
            Ok(Written::Number(number)) => Ok(Mchid(number.to_string())),
            Ok(Written::Text(text)) => Ok(Mchid(text)),
            Err(_) => Err(D::Error::custom("`mchid` must be a string of digits")),
        }
    }
}

/// `apiv3_key`: held in a buffer wiped on drop. Its `Debug` hides it, and
/// a value of the wrong type is refused without being echoed (serde's own
/// "invalid type" message would quote a number or a boolean).
struct Secret(Zeroizing<String>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        fn refused<E: de::Error>() -> E {
            E::custom("`apiv3_key` must be a string (the 32-character APIv3 key)")
        }
        impl<'de> Visitor<'de> for Key {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the APIv3 key, a string")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Secret, E> {
                let mut copy = Zeroizing::new(String::with_capacity(key.len()));
                copy.push_str(key);
                Ok(Secret(copy))
            }
            fn visit_string<E: de::Error>(self, key: String) -> Result<Secret, E> {
                // Taken over as it is: no second copy to wipe.
                Ok(Secret(Zeroizing::new(key)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
                Err(refused())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
                Err(refused())
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
                Err(refused())
            }
        }
        deserializer.deserialize_any(Key)
    }
}

/// A path from the file: `~/…` in the home folder, a relative one in
/// `folder` (the config file's), an absolute one as it is.
fn resolve(folder: &Path, text: &str) -> PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = home()
    {
        return home.join(rest);
    }
    folder.join(text)
}

/// The home folder (`HOME` on Unix), when it is an absolute path.
fn home() -> Option<PathBuf> {
    etcetera::home_dir().ok().filter(|home| home.is_absolute())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(result: Result<ConfigFile, Failure>) -> String {
        match result {
            Err(Failure::Usage(message)) => message,
            other => panic!("a usage failure, got {other:?}"),
        }
    }

    #[test]
    fn profiles_parse_with_paths_resolved_against_the_folder() {
        let config = parse_config(
            "default_profile = \"shop\"\n\
             [profiles.shop]\nmchid = 1900009191\nserial = \"AB\"\nprivate_key_file = \"keys/k.pem\"\n\
             public_key_file = \"/abs/pub.pem\"\napiv3_key = \"0123456789abcdef0123456789abcdef\"\ntimeout = 5\n\
             [profiles.other]\nbase_url = \"http://127.0.0.1:1\"\n",
            Path::new("/etc/wxpay/config.toml"),
        )
        .expect("valid");
        assert_eq!(config.default_profile.as_deref(), Some("shop"));
        let shop = &config.profiles["shop"];
        assert_eq!(shop.mchid.as_deref(), Some("1900009191"));
        assert_eq!(
            shop.private_key_file.as_deref(),
            Some(Path::new("/etc/wxpay/keys/k.pem"))
        );
        assert_eq!(
            shop.public_key_file.as_deref(),
            Some(Path::new("/abs/pub.pem"))
        );
        assert_eq!(shop.timeout, Some(5));
        let debug = format!("{shop:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(debug.contains("<hidden>"), "{debug}");
        let shown = format!("{:?}", shop.shown());
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert_eq!(
            config.profiles["other"].shown(),
            vec![("base_url", "http://127.0.0.1:1".to_owned())]
        );
    }

    #[test]
    fn mistakes_are_named_with_the_file_and_the_key() {
        let path = Path::new("/c/config.toml");
        let message = usage(parse_config("[profiles.shop]\nmchd = \"1\"\n", path));
        assert!(message.contains("`/c/config.toml`"), "{message}");
        assert!(message.contains("profile `shop`"), "{message}");
        assert!(message.contains("unknown key `mchd`"), "{message}");

        let message = usage(parse_config("mchid = \"1\"\n", path));
        assert!(message.contains("unknown key `mchid`"), "{message}");

        let message = usage(parse_config("[profiles.a]\ntimeout = \"5\"\n", path));
        assert!(message.contains("`timeout` must be"), "{message}");

        let message = usage(parse_config(
            "[profiles.a]\napiv3_key = \"k\"\napiv3_key_file = \"f\"\n",
            path,
        ));
        assert!(message.contains("keep one"), "{message}");

        let message = usage(parse_config(
            "default_profile = \"b\"\n[profiles.a]\n",
            path,
        ));
        assert!(message.contains("default_profile `b`"), "{message}");
        assert!(message.contains("its profiles are: a"), "{message}");

        let message = usage(parse_config("[profiles.a\n", path));
        assert!(message.contains("not valid TOML (line 1)"), "{message}");

        // A broken line holding the APIv3 key is named, never quoted.
        let message = usage(parse_config(
            "[profiles.a]\nmchid = \"1\"\napiv3_key = \"0123456789abcdefSECRET\n",
            path,
        ));
        assert!(message.contains("not valid TOML (line 3)"), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
    }

    #[test]
    fn paths_resolve_against_the_folder_or_home() {
        let folder = Path::new("/etc/wxpay");
        assert_eq!(resolve(folder, "k.pem"), PathBuf::from("/etc/wxpay/k.pem"));
        assert_eq!(resolve(folder, "/k.pem"), PathBuf::from("/k.pem"));
        if let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) {
            assert_eq!(
                resolve(folder, "~/keys/k.pem"),
                PathBuf::from(home).join("keys/k.pem")
            );
        }
    }

    #[test]
    fn values_refused_are_named_by_key_and_the_apiv3_key_is_never_echoed() {
        let path = Path::new("/c/config.toml");
        let message = usage(parse_config("[profiles.a]\ntimeout = 0\n", path));
        assert!(
            message.contains("profile `a`: `timeout` must be a whole number of seconds, 1 or more"),
            "{message}"
        );
        let message = usage(parse_config("[profiles.a]\nmchid = -1\n", path));
        assert!(message.contains("`mchid` must be"), "{message}");
        let message = usage(parse_config("[profiles.a]\nbase_url = 5\n", path));
        assert!(
            message.contains("profile `a`: `base_url`: invalid type"),
            "{message}"
        );
        let message = usage(parse_config("default_profile = 5\n", path));
        assert!(
            message.contains("`default_profile`: invalid type"),
            "{message}"
        );
        let message = usage(parse_config("profiles = 5\n", path));
        assert!(message.contains("`profiles`"), "{message}");
        assert!(message.contains("[profiles.NAME]"), "{message}");

        // The key of the wrong type: refused, its value not quoted (serde
        // would quote a number), nor the line it is on (toml would).
        for (text, secret) in [
            (
                "[profiles.a]\napiv3_key = 918273645546372819\n",
                "918273645546372819",
            ),
            ("[profiles.a]\napiv3_key = 1234.5678\n", "1234.5678"),
            (
                "[profiles.a]\napiv3_key = [\"SECRETSECRET\"]\n",
                "SECRETSECRET",
            ),
            (
                "[profiles.a]\napiv3_key = { k = \"SECRETSECRET\" }\n",
                "SECRETSECRET",
            ),
            (
                "profiles.a = { apiv3_key = \"SECRETSECRET\", timeout = \"x\" }\n",
                "SECRETSECRET",
            ),
            (
                "profiles.a = { apiv3_key = \"SECRETSECRET\", apiv3_key_file = \"f\" }\n",
                "SECRETSECRET",
            ),
            (
                "profiles.a = { apiv3_key = \"SECRETSECRET\", apiv3_kye = 1 }\n",
                "SECRETSECRET",
            ),
            (
                "[profiles.a]\napiv3_key = \"SECRETSECRET\"\napiv3_key = \"SECRETSECRET\"\n",
                "SECRETSECRET",
            ),
            (
                "[profiles.a]\napiv3_key = \"SECRETSECRET\" x\n",
                "SECRETSECRET",
            ),
            ("[profiles.a]\napiv3_key = 'SECRETSECRET\n", "SECRETSECRET"),
            (
                "[profiles.a]\napiv3_key = \"\"\"SECRETSECRET\n",
                "SECRETSECRET",
            ),
            ("[profiles.a]\napiv3_key = \"SECRET\\qSECRET\"\n", "SECRET"),
        ] {
            let message = usage(parse_config(text, path));
            assert!(!message.contains(secret), "{text}: {message}");
            assert!(message.contains("`/c/config.toml`"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
        let message = usage(parse_config("[profiles.a]\napiv3_key = 5\n", path));
        assert!(
            message.contains("profile `a`: `apiv3_key` must be a string"),
            "{message}"
        );
    }
}
