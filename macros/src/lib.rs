//! Placeholder.
use proc_macro::TokenStream;
/// Placeholder.
#[proc_macro_attribute]
pub fn endpoint(_attr: TokenStream, item: TokenStream) -> TokenStream { item }
