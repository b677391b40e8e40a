//! Constructors for the catalogue's sent structs, written by one macro so
//! that the generated files list only what differs: the struct, its
//! required fields and its optional ones.

/// `impl $name { new(required…), with_<field>(…)… }`.
///
/// `new` takes every required field (`impl Into<…>`, in the given order)
/// and leaves every optional one `None`; each `with_…` sets one optional
/// field. Both are generic, so they cost nothing to compile until a caller
/// uses them.
macro_rules! constructors {
    (
        $name:ident {
            new($($required:ident: $required_ty:ty),* $(,)?);
            $( $(#[$meta:meta])* $setter:ident => $optional:ident: $optional_ty:ty; )*
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
        $name:ident {
            $( $(#[$meta:meta])* $setter:ident => $optional:ident: $optional_ty:ty; )*
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
