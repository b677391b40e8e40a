//! The import graph of a crate's top-level modules, and a check that it
//! has no cycle: shared by `core/tests/no_import_cycles.rs` (wxpay-core)
//! and `sandbox/tests/no_import_cycles.rs` (wxpay-sandbox), each of which
//! includes this file with `#[path = "…"] mod import_graph;` and keeps
//! only its own configuration (the modules it expects, its allowed edges).
//!
//! The graph is drawn at top-level module granularity: a file under
//! `src/media.rs` or `src/target/…` belongs to `media` or `target`. An edge
//! `a -> b` is any `crate::b…` path in `a`'s code (a `use`, a `use
//! crate::{b::…}` group, or a path written inline), comments and string
//! literals left out. `crate::Name` paths through the crate root's
//! re-exports (`crate::Host`, `crate::Error`, …) count as edges to the
//! module `lib.rs` takes the name from. `super::` paths stay inside a
//! top-level module and are no edge; `lib.rs` itself, which declares
//! every module, is left out.
//!
//! A `pub use crate::b::Item;` that only re-exports (the module's own code
//! never names `Item`) is no edge: it keeps an old public path working
//! and the module does not depend on `b` for anything. In wxpay-core,
//! `media` re-exports `Multipart` and `UploadForm` from `body` this way,
//! while `body` imports `media`.
//!
//! A cycle fails the check, naming the modules around it and the files
//! that make each step.
//!
//! [`assert_no_cycle_under`] draws the same graph one level down, among
//! the submodules of one top-level folder module (wxpay-sandbox's
//! `handlers`), whose edges are then the `crate::folder::x…` paths: a
//! folder that groups many modules would otherwise hide their cycles.
//! Inside such a folder, siblings must be named through `crate::folder::`
//! (`super::` paths are not followed).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Where each edge comes from: `(from, to) -> files`.
pub type Edges = BTreeMap<(String, String), BTreeSet<String>>;

/// Panics when the top-level modules of the crate whose sources are in
/// `src` import each other in a cycle, or when one of `expected` is not
/// among them (a sign the graph is drawn from the wrong place).
///
/// `allowed` lists edges `(from, to, reason)` tolerated although they
/// close a cycle; the check also fails when one of them is no longer in
/// the code, so such a list only shrinks.
pub fn assert_no_cycle(src: &Path, expected: &[&str], allowed: &[(&str, &str, &str)]) {
    check(src, "lib.rs", "crate::", expected, allowed);
}

/// [`assert_no_cycle`] for the submodules of `folder`, a top-level module
/// of the crate in `src` that is a directory (`src/folder/mod.rs` declares
/// them): an edge `a -> b` is a `crate::folder::b…` path in `a`'s code.
#[allow(
    dead_code,
    reason = "not every crate that includes this file checks a folder"
)]
pub fn assert_no_cycle_under(
    src: &Path,
    folder: &str,
    expected: &[&str],
    allowed: &[(&str, &str, &str)],
) {
    check(
        &src.join(folder),
        "mod.rs",
        &format!("crate::{folder}::"),
        expected,
        allowed,
    );
}

/// The graph of the modules declared by `dir/root_file`, whose paths
/// start with `prefix`, checked.
fn check(
    dir: &Path,
    root_file: &str,
    prefix: &str,
    expected: &[&str],
    allowed: &[(&str, &str, &str)],
) {
    let modules = top_level_modules(dir, root_file);
    for expected in expected {
        assert!(
            modules.contains(*expected),
            "`{expected}` not found among {modules:?}"
        );
    }
    let mut edges = module_edges(dir, root_file, prefix, &modules);

    let mut stale = Vec::new();
    for (from, to, _) in allowed {
        if edges
            .remove(&((*from).to_owned(), (*to).to_owned()))
            .is_none()
        {
            stale.push(format!("{from} -> {to}"));
        }
    }
    assert!(
        stale.is_empty(),
        "allowed exceptions no longer needed, remove them from ALLOWED: {stale:?}"
    );

    if let Some(cycle) = find_cycle(&modules, &edges) {
        let mut message = format!("import cycle: {}\n", cycle.join(" -> "));
        for step in cycle.windows(2) {
            let files = &edges[&(step[0].clone(), step[1].clone())];
            message.push_str(&format!("  {} -> {} in {:?}\n", step[0], step[1], files));
        }
        panic!("{message}");
    }
}

/// The edges between `modules`, the modules `dir/root_file` declares,
/// drawn from the `prefix…` paths (`crate::` for a crate root).
fn module_edges(dir: &Path, root_file: &str, prefix: &str, modules: &BTreeSet<String>) -> Edges {
    let root_names = root_reexports(&fs::read_to_string(dir.join(root_file)).unwrap(), modules);
    let mut edges = Edges::new();
    for file in rust_files(dir) {
        let relative = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if relative == root_file {
            continue;
        }
        let first = relative.split('/').next().unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first).to_owned();
        let text = fs::read_to_string(&file).unwrap();
        for target in references(&text, prefix, modules, &root_names, &relative) {
            if target != module {
                edges
                    .entry((module.clone(), target))
                    .or_default()
                    .insert(relative.clone());
            }
        }
    }
    edges
}

/// The modules `dir/root_file` (`lib.rs`, `mod.rs`) declares, one per
/// `dir/x.rs` or `dir/x/`.
fn top_level_modules(dir: &Path, root_file: &str) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            if path.is_dir() {
                Some(name)
            } else {
                (name != root_file)
                    .then_some(name.as_str())
                    .and_then(|name| name.strip_suffix(".rs"))
                    .map(str::to_owned)
            }
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `Name -> module` for each `pub use module::{Name, …};` of the crate
/// root (or of the folder's `mod.rs`).
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let code = strip(lib);
    let mut names = BTreeMap::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("pub use ") {
        rest = &rest[at + "pub use ".len()..];
        let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
        let Some((module, items)) = statement.split_once("::") else {
            continue;
        };
        let module = module.trim();
        if !modules.contains(module) {
            continue;
        }
        for name in leaf_names(items) {
            names.insert(name, module.to_owned());
        }
    }
    names
}

/// The modules `text` (a file of module `file`) refers to through
/// `prefix…` paths.
fn references(
    text: &str,
    prefix: &str,
    modules: &BTreeSet<String>,
    root_names: &BTreeMap<String, String>,
    file: &str,
) -> BTreeSet<String> {
    let code = strip(text);
    let reexports_only = pure_reexports(&code, prefix);
    let mut found = BTreeSet::new();
    let mut at = 0;
    while let Some(offset) = code[at..].find(prefix) {
        let start = at + offset;
        at = start + prefix.len();
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if reexports_only.iter().any(|range| range.contains(&start)) {
            continue;
        }
        let rest = &code[at..];
        let heads: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            split_top_level(&group[..matching_brace(group)])
                .into_iter()
                .map(|item| identifier(item.trim_start()).to_owned())
                .collect()
        } else {
            vec![identifier(rest).to_owned()]
        };
        for head in heads.into_iter().filter(|head| !head.is_empty()) {
            if head == "self" || head == "__fuzz" {
                continue;
            }
            let module = if modules.contains(&head) {
                head
            } else if let Some(module) = root_names.get(&head) {
                module.clone()
            } else {
                panic!(
                    "{file}: `{prefix}{head}` names neither a module nor a re-export of the root file; teach this test about it"
                );
            };
            found.insert(module);
        }
    }
    found
}

/// The byte ranges of `pub use {prefix}…;` statements whose imported
/// names the rest of the file never mentions.
fn pure_reexports(code: &str, prefix: &str) -> Vec<std::ops::Range<usize>> {
    let statement = format!("pub use {prefix}");
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(offset) = code[at..].find(&statement) {
        let start = at + offset;
        let end = code[start..]
            .find(';')
            .map_or(code.len(), |i| start + i + 1);
        at = end;
        if start > 0 && !code[..start].ends_with(char::is_whitespace) {
            continue;
        }
        let items = &code[start + statement.len()..end - 1];
        let names = leaf_names(items);
        if names.iter().any(|name| name == "*") {
            continue;
        }
        let elsewhere = format!("{} {}", &code[..start], &code[end..]);
        if !names.iter().any(|name| mentions(&elsewhere, name)) {
            ranges.push(start..end);
        }
    }
    ranges
}

/// The names a `use` tree brings into scope (`a::{B, c::D as E}` gives
/// `B`, `D`, `E`; the name before `as` is kept too, to be safe).
fn leaf_names(tree: &str) -> Vec<String> {
    let mut names = Vec::new();
    let chars: Vec<char> = tree.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '*' {
            names.push("*".to_owned());
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if word != "as" && word != "self" && next != Some(&':') {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Whether `code` holds `name` as a whole word.
fn mentions(code: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        !code[..at].chars().next_back().is_some_and(is_word)
            && !code[at + name.len()..].chars().next().is_some_and(is_word)
    })
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The offset of the `}` closing a group whose `{` came just before `text`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// `a::{b, c}, d` split at the commas outside braces.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// `text` without comments (doc comments included: intra-doc links are
/// no imports) and with every string and character literal emptied.
fn strip(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let previous_is_word =
            i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(hashes) = raw_string_start(rest).filter(|_| !previous_is_word) {
            // r"…", r#"…"#, br"…": ends at the quote followed by the hashes.
            let open = rest.find('"').unwrap() + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            let end = rest[open..]
                .find(&close)
                .map_or(rest.len(), |at| open + at + close.len());
            i += end;
            out.push_str("\"\"");
        } else if rest.starts_with('"') || (rest.starts_with("b\"") && !previous_is_word) {
            let mut j = rest.find('"').unwrap() + 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        j += 1;
                        break;
                    }
                    _ => j += 1,
                }
            }
            i += j;
            out.push_str("\"\"");
        } else if rest.starts_with('\'') {
            // A character literal (`'x'`, `'\n'`, `'\u{…}'`), else a lifetime.
            match char_literal_len(rest) {
                Some(len) => {
                    i += len;
                    out.push_str("' '");
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The number of `#` of a raw string starting `text`, if one does.
fn raw_string_start(text: &str) -> Option<usize> {
    let after = text.strip_prefix("br").or_else(|| text.strip_prefix('r'))?;
    let hashes = after.len() - after.trim_start_matches('#').len();
    after[hashes..].starts_with('"').then_some(hashes)
}

fn char_literal_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().skip(1);
    let (_, first) = chars.next()?;
    if first == '\\' {
        // The character after the backslash is escaped, `'` included.
        let close = text.get(3..)?.find('\'')?;
        (close <= 10).then_some(3 + close + 1)
    } else {
        let (at, next) = chars.next()?;
        (next == '\'').then_some(at + 1)
    }
}

/// A cycle of `edges` as the modules around it (first = last), if any.
fn find_cycle(modules: &BTreeSet<String>, edges: &Edges) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from.as_str()).or_default().push(to.as_str());
    }
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        module: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(module, 1);
        path.push(module);
        for &to in next.get(module).into_iter().flatten() {
            match state.get(to).copied().unwrap_or(0) {
                1 => {
                    let from = path.iter().position(|m| *m == to).unwrap();
                    let mut cycle: Vec<String> =
                        path[from..].iter().map(|m| (*m).to_owned()).collect();
                    cycle.push(to.to_owned());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(to, next, state, path) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(module, 2);
        None
    }
    for module in modules {
        if state.get(module.as_str()).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(module, &next, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// The checker checked.
mod tests {
    use super::*;

    fn modules_of(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn paths_in_code_count_and_comments_and_strings_do_not() {
        let modules = modules_of(&["a", "b", "c", "d", "e", "f"]);
        let root = BTreeMap::from([("Thing".to_owned(), "f".to_owned())]);
        let text = r##"
            //! See [`crate::e`].
            use crate::{a::X, b::{Y, Z}};
            /* crate::e */ const S: &str = "crate::e"; const R: &str = r#"crate::e"#;
            fn f<'a>(x: &'a str) -> char { let _ = crate::c::f(); '\''; '"'; 'x' }
            type T = crate::Thing;
            pub(crate) use crate::d::W;
        "##;
        assert_eq!(
            references(text, "crate::", &modules, &root, "test.rs"),
            modules_of(&["a", "b", "c", "d", "f"])
        );
    }

    #[test]
    fn a_pure_reexport_is_no_edge_but_a_used_one_is() {
        let modules = modules_of(&["a", "b"]);
        let root = BTreeMap::new();
        let pure = "pub use crate::a::{Multipart, UploadForm};\nfn f() {}";
        assert!(references(pure, "crate::", &modules, &root, "test.rs").is_empty());
        let used = "pub use crate::a::Body;\nfn f() -> Body { todo!() }";
        assert_eq!(
            references(used, "crate::", &modules, &root, "test.rs"),
            modules_of(&["a"])
        );
    }

    #[test]
    fn inside_a_folder_only_its_own_paths_count() {
        let modules = modules_of(&["a", "b"]);
        let root = BTreeMap::new();
        let text = "use crate::h::{a::X, b};\nuse crate::other::Y;\nuse crate::h::b::Z;";
        assert_eq!(
            references(text, "crate::h::", &modules, &root, "test.rs"),
            modules_of(&["a", "b"])
        );
        let pure = "pub use crate::h::a::X;\nfn f() {}";
        assert!(references(pure, "crate::h::", &modules, &root, "test.rs").is_empty());
    }

    #[test]
    fn a_cycle_is_found_and_named() {
        let modules = modules_of(&["a", "b", "c", "d"]);
        let mut edges = Edges::new();
        for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
            edges.insert((from.to_owned(), to.to_owned()), BTreeSet::new());
        }
        assert_eq!(find_cycle(&modules, &edges).unwrap(), ["a", "b", "c", "a"]);
        edges.remove(&("c".to_owned(), "a".to_owned()));
        assert_eq!(find_cycle(&modules, &edges), None);
    }
}
