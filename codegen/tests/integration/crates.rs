//! The catalogue's split into crates (`codegen/src/crates.rs`): each area
//! lands in the crate the table names, each crate declares what it holds,
//! `wxpay` re-exports and turns on each area through that crate, and no
//! crate grows past the size that keeps rustc's peak memory down.

use std::collections::BTreeSet;

use wxpay_codegen::crates::{self, CRATES};
use wxpay_codegen::generate;

use crate::common;
use common::{generated as file, say, spec};

#[test]
fn every_area_lands_in_the_crate_the_table_names() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let v3 = file(&output, "src/api/v3.rs");
    let mut areas = 0;
    for krate in CRATES {
        let lib = file(&output, &format!("api/{}/src/lib.rs", krate.name));
        let manifest = file(&output, &format!("api/{}/Cargo.toml", krate.name));
        assert!(
            manifest.contains(&format!("name = \"wxpay-api-{}\"", krate.name)),
            "{manifest}"
        );
        for module in krate.handwritten {
            assert!(lib.contains(&format!("\nmod {module};")), "{lib}");
        }
        for area in krate.areas {
            if ["hk", "global", "v2"].contains(area) {
                continue;
            }
            areas += 1;
            let module = area.replace('-', "_");
            // The crate holds the file and declares it.
            file(
                &output,
                &format!("api/{}/src/api/v3/{module}.rs", krate.name),
            );
            assert!(lib.contains(&format!("pub mod {module};")), "{lib}");
            // `wxpay` re-exports it from there…
            let reexport = format!(
                "pub use {}::api::v3::{module};",
                crates::rust_name(krate.name)
            );
            assert!(v3.contains(&reexport), "no `{reexport}` in src/api/v3.rs");
            // …and its feature turns the crate and the area on.
            if area != &"marketing" {
                let package = crates::package(krate.name);
                let line = format!(
                    "{} = [\"dep:{package}\", \"{package}/{area}\"]",
                    crates::toml_key(area)
                );
                assert!(
                    output.features.lines().any(|l| l == line),
                    "no `{line}` among wxpay's features"
                );
                assert!(manifest.contains(&format!("\n{} = []\n", crates::toml_key(area))));
            }
        }
        // `wxpay` depends on it, optionally.
        assert!(
            output.dependencies.contains(&format!(
                "{} = {{ path = \"api/{}\"",
                crates::package(krate.name),
                krate.name
            )) && output
                .dependencies
                .lines()
                .all(|l| l.contains("optional = true")),
            "{}",
            output.dependencies
        );
    }
    // Every APIv3 area `wxpay` re-exports was checked (`global`, whose
    // crate also holds the other cross-border groups, aside).
    let reexported = v3.lines().filter(|l| l.starts_with("pub use ")).count();
    assert_eq!(
        areas + 1,
        reexported,
        "APIv3 areas checked against re-exported"
    );
    let marketing = output
        .features
        .lines()
        .find(|l| l.starts_with("marketing-favor = "))
        .expect("marketing-favor");
    assert!(
        marketing.contains("\"dep:wxpay-api-marketing\""),
        "{marketing}"
    );
    assert!(file(&output, "src/api/hk.rs").contains("pub use wxpay_api_cross_border::api::hk::*;"));
    assert!(file(&output, "src/api/v2.rs").contains("pub use wxpay_api_v2::api::v2::pay;"));
}

/// rustc's peak memory follows the largest crate: with every area in one
/// crate it passed 3 GB. The table keeps each crate near 20,000 lines; this
/// fails when a crate outgrows 25,000, so that the table is revisited.
#[test]
fn no_catalogue_crate_outgrows_the_budget() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let mut sizes = Vec::new();
    for krate in CRATES.iter().map(|c| c.name).chain([crates::TYPES]) {
        let prefix = format!("api/{krate}/src/");
        let lines: usize = output
            .files
            .iter()
            .filter(|(path, _)| path.to_string_lossy().starts_with(&prefix))
            .map(|(_, text)| text.lines().count())
            .sum();
        sizes.push(format!("{krate} {lines}"));
        assert!(lines > 0, "crate {krate} is empty");
        assert!(
            lines <= 25_000,
            "crate {krate} has {lines} generated lines (unformatted): split it in codegen/src/crates.rs"
        );
    }
    say(&format!(
        "catalogue crates (lines before rustfmt): {}",
        sizes.join(", ")
    ));
}

#[test]
fn the_table_is_checked_against_the_spec() {
    let mut areas: BTreeSet<String> = CRATES
        .iter()
        .flat_map(|c| c.areas.iter().map(|a| (*a).to_owned()))
        .collect();
    crates::check(&areas).expect("the table matches its own areas");

    areas.insert("brand-new-area".to_owned());
    let error = crates::check(&areas).expect_err("a new area is refused");
    assert!(
        error.contains("`brand-new-area` is in no catalogue crate")
            && error.contains("codegen/src/crates.rs"),
        "{error}"
    );

    areas.remove("brand-new-area");
    areas.remove("pay");
    let error = crates::check(&areas).expect_err("a vanished area is refused");
    assert!(
        error.contains("crate `payments` names `pay`, which the spec no longer has"),
        "{error}"
    );
    assert!(crates::holding("pay").is_ok_and(|c| c.name == "payments"));
}
