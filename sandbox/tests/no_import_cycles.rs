//! No top-level module of `wxpay-sandbox` imports a module that imports it
//! back.
//!
//! The layers, bottom to top: the leaves (`config`, `clock`, `errors`,
//! `events`, `random`, …), the pieces of the shared state (`credentials`,
//! `certificates`, `faults`, `signing`, `store`, `callbacks`), `state`
//! itself, the request handlers (`handlers`), then `spec` (the operations
//! answered from the spec, reusing the handlers' signature check),
//! `delivery` (the callback tasks) and `server` (the router). How the
//! graph is drawn is described in the checker shared with wxpay-core,
//! `core/tests/support/import_graph.rs`.

use std::path::Path;

#[path = "../../core/tests/support/import_graph.rs"]
mod import_graph;

/// Edges allowed although they close a cycle, each as `(from, to,
/// reason)`. Keep it empty: break a new cycle instead, by moving what both
/// modules need into a module below them. The check fails when a listed
/// edge is no longer in the code, so the list can only shrink.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// The same for the handlers among themselves (the submodules of
/// `handlers`). Keep it empty too: what APIv2 says of an order or a refund
/// lives with the orders and refunds (`payments`, `refunds`), which queue
/// its notification, so that `v2` sits above both.
const ALLOWED_IN_HANDLERS: &[(&str, &str, &str)] = &[];

#[test]
fn the_top_level_module_graph_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    import_graph::assert_no_cycle(
        &src,
        &[
            "config",
            "state",
            "handlers",
            "server",
            "spec",
            "delivery",
            "callbacks",
            "certificates",
        ],
        ALLOWED,
    );
}

#[test]
fn the_handlers_import_one_another_without_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    import_graph::assert_no_cycle_under(
        &src,
        "handlers",
        &["payments", "refunds", "favor", "pages", "payer", "v2"],
        ALLOWED_IN_HANDLERS,
    );
}
