//! The generator of wxpay's endpoint catalogue: reads the WeChat Pay
//! OpenAPI spec (Swagger 2.0, one file per path) and writes the catalogue
//! crates (`api/`, see [`crates`]), `wxpay`'s re-exports of them (`src/api/`)
//! and the sandbox's operation table ([`table::TABLE_PATH`]).
//!
//! Run it as `cargo run -p wxpay-codegen -- ../shared/spec/wechatpay-openapi`
//! from the workspace root.

pub mod builders;
pub mod corrections;
pub mod crates;
pub mod emit;
pub mod generate;
pub mod idempotency;
pub mod naming;
pub mod overrides;
pub mod shapes;
pub mod spec;
pub mod table;
