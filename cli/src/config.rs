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
use zeroize::{Zeroize as _, Zeroizing};

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
    /// No default place: neither `XDG_CONFIG_HOME` nor `HOME` is set.
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
/// `$HOME/.config/wxpay/config.toml`.
fn default_path(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let base = xdg_config_home
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|dir| !dir.as_os_str().is_empty())
                .map(|home| home.join(".config"))
        })?;
    Some(base.join("wxpay").join("config.toml"))
}

impl ProfileArgs {
    /// Where the config file is.
    pub fn config_path(&self) -> ConfigPath {
        match &self.config {
            Some(path) => ConfigPath::Given(path.clone()),
            None => match default_path(
                std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
                std::env::var_os("HOME").map(PathBuf::from),
            ) {
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
            .unwrap_or_else(|| " (neither XDG_CONFIG_HOME nor HOME is set)".to_owned());
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
/// one of the profiles.
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, Failure> {
    let shown = path.display();
    // The error names the line but does not quote it: the line may be
    // the APIv3 key's.
    let mut table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
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
    let config = config_of(&table, path);
    scrub(&mut table);
    config
}

/// Wipes every profile's `apiv3_key` string in the parsed table, once
/// [`config_of`] has copied it into a wiped-on-drop buffer.
fn scrub(table: &mut toml::Table) {
    let Some(toml::Value::Table(profiles)) = table.get_mut("profiles") else {
        return;
    };
    for (_, profile) in profiles.iter_mut() {
        if let toml::Value::Table(settings) = profile
            && let Some(toml::Value::String(key)) = settings.get_mut("apiv3_key")
        {
            key.zeroize();
        }
    }
}

/// The config of a parsed file's `table`; see [`parse_config`].
fn config_of(table: &toml::Table, path: &Path) -> Result<ConfigFile, Failure> {
    let shown = path.display();
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut config = ConfigFile {
        path: path.to_owned(),
        default_profile: None,
        profiles: BTreeMap::new(),
    };
    for (key, value) in table {
        match key.as_str() {
            "default_profile" => match value {
                toml::Value::String(name) => config.default_profile = Some(name.clone()),
                _ => {
                    return Err(Failure::usage(format!(
                        "the config file `{shown}`: `default_profile` must be a string (a profile's name)"
                    )));
                }
            },
            "profiles" => {
                let toml::Value::Table(profiles) = value else {
                    return Err(Failure::usage(format!(
                        "the config file `{shown}`: `profiles` must be tables, like [profiles.NAME]"
                    )));
                };
                for (name, value) in profiles {
                    let toml::Value::Table(settings) = value else {
                        return Err(Failure::usage(format!(
                            "the config file `{shown}`: `profiles.{name}` must be a table, like [profiles.{name}]"
                        )));
                    };
                    let profile = parse_profile(name, settings, folder).map_err(|why| {
                        Failure::usage(format!(
                            "the config file `{shown}`, profile `{name}`: {why}"
                        ))
                    })?;
                    config.profiles.insert(name.clone(), profile);
                }
            }
            other => {
                return Err(Failure::usage(format!(
                    "the config file `{shown}` has an unknown key `{other}`; at the top level only \
                     `default_profile` and [profiles.NAME] tables are known"
                )));
            }
        }
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

/// A path from the file: `~/…` in the home folder, a relative one in
/// `folder` (the config file's), an absolute one as it is.
fn resolve(folder: &Path, text: &str) -> PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty())
    {
        return PathBuf::from(home).join(rest);
    }
    folder.join(text)
}

/// One `[profiles.NAME]` table; the error says what is wrong in it.
fn parse_profile(name: &str, settings: &toml::Table, folder: &Path) -> Result<Profile, String> {
    let mut profile = Profile {
        name: name.to_owned(),
        ..Profile::default()
    };
    for (key, value) in settings {
        let text = || match value {
            toml::Value::String(text) => Ok(text.clone()),
            _ => Err(format!("`{key}` must be a string")),
        };
        let file = || text().map(|text| resolve(folder, &text));
        match key.as_str() {
            "base_url" => profile.base_url = Some(text()?),
            "timeout" => match value {
                toml::Value::Integer(seconds) if *seconds >= 1 => {
                    profile.timeout = u64::try_from(*seconds).ok();
                }
                _ => return Err("`timeout` must be a whole number of seconds, 1 or more".into()),
            },
            "mchid" => {
                profile.mchid = Some(match value {
                    toml::Value::Integer(number) if *number >= 0 => number.to_string(),
                    _ => text().map_err(|_| "`mchid` must be a string of digits".to_owned())?,
                });
            }
            "serial" => profile.serial = Some(text()?),
            "private_key_file" => profile.private_key_file = Some(file()?),
            "public_key_id" => profile.public_key_id = Some(text()?),
            "public_key_file" => profile.public_key_file = Some(file()?),
            "platform_cert_file" => profile.platform_cert_file = Some(file()?),
            "apiv3_key" => match value {
                toml::Value::String(key) => {
                    let mut copy = Zeroizing::new(String::with_capacity(key.len()));
                    copy.push_str(key);
                    profile.apiv3_key = Some(copy);
                }
                _ => return Err("`apiv3_key` must be a string".into()),
            },
            "apiv3_key_file" => profile.apiv3_key_file = Some(file()?),
            "v2_key_file" => profile.v2_key_file = Some(file()?),
            "v2_client_cert_file" => profile.v2_client_cert_file = Some(file()?),
            "v2_client_key_file" => profile.v2_client_key_file = Some(file()?),
            other => {
                return Err(format!(
                    "unknown key `{other}`; a profile may set {}",
                    PROFILE_KEYS.join(", ")
                ));
            }
        }
    }
    if profile.apiv3_key.is_some() && profile.apiv3_key_file.is_some() {
        return Err("both `apiv3_key` and `apiv3_key_file` are set; keep one".into());
    }
    Ok(profile)
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
    fn the_default_path_follows_xdg_then_home() {
        assert_eq!(
            default_path(Some("/x".into()), Some("/h".into())),
            Some(PathBuf::from("/x/wxpay/config.toml"))
        );
        assert_eq!(
            default_path(Some("relative".into()), Some("/h".into())),
            Some(PathBuf::from("/h/.config/wxpay/config.toml"))
        );
        assert_eq!(
            default_path(None, Some("/h".into())),
            Some(PathBuf::from("/h/.config/wxpay/config.toml"))
        );
        assert_eq!(default_path(None, None), None);
    }
}
