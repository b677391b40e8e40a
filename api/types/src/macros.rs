//! The two macros the generated sources call, in every catalogue crate
//! (`#[macro_use] extern crate wxpay_api_types`). Exported, because other
//! crates call them, and hidden, because they are not for users.
//!
//! - `string_enum!`: string enumerations that survive values WeChat Pay adds
//!   later.
//! - `constructors!`: constructors for the sent structs, written by one
//!   macro so that the generated files list only what differs: the struct,
//!   its required fields and its optional ones.

/// Declares a string enum whose unknown values decode into `Other(String)`
/// instead of failing, and serialize back unchanged.
#[doc(hidden)]
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of wxpay does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as WeChat Pay writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(other) => other,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(match value {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                ::core::result::Result::Ok(match value.parse() {
                    ::core::result::Result::Ok(parsed) => parsed,
                    ::core::result::Result::Err(never) => match never {},
                })
            }
        }
    };
}

/// `impl $name { new(required…), with_<field>(…)… }`, from the
/// signatures alone:
///
/// ```ignore
/// constructors! {
///     impl Name {
///         fn new(a: TyA, b: TyB);
///         /// Sets `c`.
///         fn with_c(c: TyC);
///     }
/// }
/// ```
///
/// `new` takes every required field (`impl Into<…>`, in the given order)
/// and leaves every optional one `None`; each `with_…` sets one optional
/// field. Both are generic, so they cost nothing to compile until a caller
/// uses them.
#[doc(hidden)]
#[macro_export]
macro_rules! constructors {
    (
        impl $name:ident {
            fn new($($required:ident: $required_ty:ty),* $(,)?);
            $( $(#[$meta:meta])* fn $setter:ident($optional:ident: $optional_ty:ty $(,)?); )*
        }
    ) => {
        impl $name {
            /// A value with its required fields; every optional one is
            /// `None` until its `with_…` method sets it.
            #[allow(clippy::too_many_arguments)]
            pub fn new($($required: impl ::core::convert::Into<$required_ty>),*) -> Self {
                Self {
                    $($required: $required.into(),)*
                    $($optional: ::core::option::Option::None,)*
                }
            }

            $(
                $(#[$meta])*
                pub fn $setter(mut self, $optional: impl ::core::convert::Into<$optional_ty>) -> Self {
                    self.$optional = ::core::option::Option::Some($optional.into());
                    self
                }
            )*
        }
    };
    (
        impl $name:ident {
            $( $(#[$meta:meta])* fn $setter:ident($optional:ident: $optional_ty:ty $(,)?); )*
        }
    ) => {
        impl $name {
            $(
                $(#[$meta])*
                pub fn $setter(mut self, $optional: impl ::core::convert::Into<$optional_ty>) -> Self {
                    self.$optional = ::core::option::Option::Some($optional.into());
                    self
                }
            )*
        }
    };
}
