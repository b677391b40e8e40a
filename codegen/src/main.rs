//! `wxpay-codegen SPEC_DIR [--out WORKSPACE]`: regenerates the catalogue.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use wxpay_codegen::generate::{self, Output};
use wxpay_codegen::spec::Spec;

const BEGIN: &str = "# BEGIN wxpay-codegen areas";
const END: &str = "# END wxpay-codegen areas";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut spec_dir = None;
    let mut out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut verbose = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => match args.next() {
                Some(dir) => out = PathBuf::from(dir),
                None => return usage(),
            },
            "--verbose" | "-v" => verbose = true,
            _ if spec_dir.is_none() && !arg.starts_with('-') => spec_dir = Some(PathBuf::from(arg)),
            _ => return usage(),
        }
    }
    let Some(spec_dir) = spec_dir else {
        return usage();
    };
    match run(&spec_dir, &out, verbose) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wxpay-codegen: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: wxpay-codegen SPEC_DIR [--out WORKSPACE] [--verbose]");
    ExitCode::from(2)
}

fn run(spec_dir: &Path, out: &Path, verbose: bool) -> Result<(), String> {
    let spec = Spec::open(spec_dir)?;
    let stale = wxpay_codegen::corrections::missing(spec_dir);
    if !stale.is_empty() {
        return Err(format!(
            "the spec changed under these corrections (codegen/src/corrections.rs): {}; \
             check whether WeChat Pay's answers still need them, then move or remove them",
            stale.join(", ")
        ));
    }
    let Output {
        files,
        features,
        rows,
        notes,
        summary,
    } = generate::generate(&spec)?;

    // The area modules are regenerated whole: stale files go.
    for dir in ["src/api/v3", "src/api/v2"] {
        let dir = out.join(dir);
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    let mut written = Vec::new();
    for (path, text) in &files {
        let path = out.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    let status = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2024"])
        .args(&written)
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !status.success() {
        return Err("rustfmt failed on the generated sources".into());
    }

    let manifest = out.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!(
            "{}: no `{BEGIN}` … `{END}` markers",
            manifest.display()
        ));
    };
    let head = &text[..begin + BEGIN.len()];
    let tail = &text[end..];
    let updated = format!("{head}\n{features}{tail}");
    if updated != text {
        std::fs::write(&manifest, updated).map_err(|e| format!("{}: {e}", manifest.display()))?;
    }

    // The sandbox's operation table (JSON, not formatted by rustfmt).
    let table = wxpay_codegen::table::table(&spec)?;
    let table_path = out.join(wxpay_codegen::table::TABLE_PATH);
    if let Some(parent) = table_path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&table_path, table).map_err(|e| format!("{}: {e}", table_path.display()))?;
    written.push(table_path);

    eprintln!(
        "wxpay-codegen: {} operations, {} files written",
        rows.len(),
        written.len()
    );
    for line in &summary {
        eprintln!("wxpay-codegen: {line}");
    }
    if verbose {
        for note in &notes {
            eprintln!("note: {note}");
        }
    } else if !notes.is_empty() {
        eprintln!(
            "wxpay-codegen: {} spec quirks worked around (--verbose lists them)",
            notes.len()
        );
    }
    Ok(())
}
