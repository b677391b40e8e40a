//! Files that hold secrets, and files the command writes.
//!
//! - Secrets the command reads itself (the APIv3 key file, the config
//!   file that may hold the key) come back in [`Zeroizing`] buffers,
//!   wiped when dropped.
//! - A key file whose Unix mode lets group or others read it gets a
//!   warning on stderr naming the file and the `chmod 600` fix
//!   ([`warn_if_exposed`]); `wxpay doctor` makes it a failure
//!   ([`exposure`]).
//! - Files the command writes are opened without following a symbolic
//!   link at the last component of their path (`O_NOFOLLOW` on Unix), so
//!   that a link planted where a file is to be written cannot redirect the
//!   write elsewhere; such a link is refused with a message saying so
//!   ([`write_file`], [`refuse_symlink`]).

use std::io::{Read as _, Write as _};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::Failure;

/// The permission bits that let users other than the owner read a file.
#[cfg(unix)]
const READ_BY_OTHERS: u32 = 0o044;

/// How a secret file's permissions expose it: `Some(mode)` (the file's
/// permission bits) when group or others may read it, `None` when only
/// its owner can (always `None` off Unix, where modes do not apply).
///
/// # Errors
/// The file's metadata cannot be read (it is missing, a folder on the way
/// is not searchable, …).
pub fn exposure(path: &Path) -> std::io::Result<Option<u32>> {
    let metadata = std::fs::metadata(path)?;
    Ok(exposed_mode(&metadata))
}

/// The permission bits of `metadata` when they let group or others read
/// the file.
fn exposed_mode(metadata: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o7777;
        (mode & READ_BY_OTHERS != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        None
    }
}

/// Who besides the owner may read a file of `mode`: "group and others",
/// "group" or "others".
pub fn readers(mode: u32) -> &'static str {
    match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        _ => "all other users",
    }
}

/// The line `wxpay` prints about a secret file of `mode` that others can
/// read: what it is, who can read it, and the fix.
pub fn exposure_message(what: &str, path: &Path, mode: u32) -> String {
    format!(
        "{what} `{}` is readable by {} (mode {mode:04o}); run `chmod 600 {}` so that only you can read it",
        path.display(),
        readers(mode),
        shell_word(&path.display().to_string())
    )
}

/// Prints a warning on stderr when the secret file `path` (described as
/// `what`, e.g. "the merchant private key") can be read by group or
/// others. Says nothing when its metadata cannot be read: whoever reads
/// the file next reports that.
pub fn warn_if_exposed(what: &str, path: &Path) {
    if let Ok(Some(mode)) = exposure(path) {
        crate::output::note(&format!("warning: {}", exposure_message(what, path, mode)));
    }
}

/// Reads the secret file `path` as UTF-8 text into a wiped-on-drop
/// buffer, warning (see [`warn_if_exposed`]) when others can read it. The
/// permissions are those of the file opened, not of whatever the path
/// names a moment later.
///
/// # Errors
/// As [`read_protected`].
pub fn read_secret(what: &str, path: &Path) -> std::io::Result<Zeroizing<String>> {
    let (text, exposed) = read_protected(path)?;
    if let Some(mode) = exposed {
        crate::output::note(&format!("warning: {}", exposure_message(what, path, mode)));
    }
    Ok(text)
}

/// Reads `path` as UTF-8 text into a wiped-on-drop buffer, with the
/// permission bits of the file opened when group or others can read it
/// (see [`exposure`]).
///
/// # Errors
/// The file cannot be opened or read, or is not UTF-8 (the error says so
/// without quoting the contents).
pub fn read_protected(path: &Path) -> std::io::Result<(Zeroizing<String>, Option<u32>)> {
    let mut file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    // Room for the whole file up front, so that the buffer does not grow
    // (growing would leave unwiped copies behind).
    let capacity = usize::try_from(metadata.len())
        .unwrap_or(0)
        .saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.read_to_end(&mut bytes)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let mut owned = Zeroizing::new(String::with_capacity(text.len()));
            owned.push_str(text);
            Ok((owned, exposed_mode(&metadata)))
        }
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text",
        )),
    }
}

/// Writes `contents` to `path` without following a symbolic link at its
/// last component. A new file gets `mode` (Unix permission bits); an
/// existing regular file is set to `mode` through the open handle, then
/// emptied and rewritten, so that a secret is never written into a file
/// others can read.
///
/// (No file the command writes is one it must not replace: certificates
/// and a sandbox's state are written again on purpose, and a bill goes
/// through a temporary file wxpay creates exclusively, renamed into
/// place.)
///
/// # Errors
/// A [`Failure::Other`] naming the path: a symbolic link there (said
/// plainly, with what to do), or any other I/O error.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .map_err(|error| open_failure(path, &error))?;
    let write = |file: &mut std::fs::File| -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        // Emptied only now, through the handle: the file opened is the
        // file emptied.
        file.set_len(0)?;
        file.write_all(contents)?;
        file.flush()
    };
    write(&mut file).map_err(|error| Failure::write(path, &error))
}

/// The failure of opening `path` for writing: a symbolic link at the last
/// component (`ELOOP` under `O_NOFOLLOW`) is named as such.
fn open_failure(path: &Path, error: &std::io::Error) -> Failure {
    if is_symlink(path) {
        return Failure::Other(symlink_message(path));
    }
    Failure::write(path, error)
}

/// Whether `path` itself (not what it points to) is a symbolic link.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

/// What is said about a symbolic link where a file is to be written.
fn symlink_message(path: &Path) -> String {
    let target = std::fs::read_link(path)
        .map(|target| format!(" (to `{}`)", target.display()))
        .unwrap_or_default();
    format!(
        "`{}` is a symbolic link{target}; wxpay does not write through links, so that a link \
         planted there cannot redirect the file: remove the link or give the real path",
        path.display()
    )
}

/// Refuses `path` when it is a symbolic link, naming `flag` (the option
/// that named it), before anything is downloaded or written.
///
/// # Errors
/// A usage failure saying that the path is a link and what to do.
pub fn refuse_symlink(flag: &str, path: &Path) -> Result<(), Failure> {
    if is_symlink(path) {
        return Err(Failure::usage(format!("{flag} {}", symlink_message(path))));
    }
    Ok(())
}

/// `text` as one POSIX shell word: bare when it holds only characters no
/// shell treats specially, else in single quotes.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+,=-".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/tmp/k.pem"), "/tmp/k.pem");
        assert_eq!(shell_word("/tmp/my key.pem"), "'/tmp/my key.pem'");
        assert_eq!(shell_word("a'b"), r"'a'\''b'");
    }

    #[cfg(unix)]
    #[test]
    fn exposure_follows_the_group_and_other_read_bits() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "secret").expect("write");
        for (mode, exposed) in [
            (0o600, false),
            (0o400, false),
            (0o620, false),
            (0o640, true),
            (0o604, true),
            (0o644, true),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            assert_eq!(
                exposure(&path).expect("metadata"),
                exposed.then_some(mode),
                "{mode:o}"
            );
        }
        let message = exposure_message("the key", &path, 0o644);
        assert!(message.contains("group and others"), "{message}");
        assert!(message.contains("chmod 600"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn writes_do_not_follow_a_link_and_set_the_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let Err(Failure::Other(message)) = write_file(&link, b"new", 0o600) else {
            panic!("a link must be refused");
        };
        assert!(message.contains("symbolic link"), "{message}");
        assert!(message.contains("victim"), "{message}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "untouched");

        // A regular file is replaced, shorter contents included, and made 0600.
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_file(&victim, b"new", 0o600).expect("replace");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "new");
        let mode = std::fs::metadata(&victim)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn secrets_are_read_and_exposure_is_seen_on_the_open_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("apiv3.key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let text = read_secret("the APIv3 key file", &path).expect("read");
        assert_eq!(text.trim(), "0123456789abcdef0123456789abcdef");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        let error = read_secret("the APIv3 key file", &path).expect_err("not UTF-8");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    }
}
