//! # imgd-url: the Cloudimage URL grammar
//!
//! Turns a request target (`/v7/sample.li/boat.jpg?w=300&func=crop`) into an [`ImageRequest`]:
//! a typed [`Origin`] and a typed [`TransformSpec`], once, at the edge. Nothing downstream sees
//! query strings or Cloudimage spellings (`w`, `func=crop`, `bg_colour`): they live only here.
//!
//! Layout:
//! - `request`: prefix, origin forms, precedence of rules, URL parameters and presets;
//! - `origin`: origin URLs and file-alias paths, normalised;
//! - `param`: one parameter → one spec field, with name aliases and value syntax;
//! - `query`: raw query text → decoded pairs;
//! - `signature`: `ci_sign` and `ci_eqs`/`ci_seal` verification;
//! - `color`: colour values;
//! - `spec`: the typed result and its canonical form.
//!
//! Invariants: no I/O, no async, no HTTP types. `parse_canonical(spec.canonical()) == spec`.

mod color;
mod error;
mod origin;
mod param;
mod query;
mod request;
mod signature;
mod spec;

pub use color::parse_color;
pub use error::ParseError;
pub use origin::{Origin, RemoteUrl, Scheme};
pub use request::{
    apply_query, glob, parse_canonical, parse_request, AliasTarget, ImageRequest, Rule, TokenRules,
    UrlVersion,
};
pub use spec::{
    AspectRatio, Color, Flip, Func, Gravity, Hundredths, OutputFormat, Point, TransformSpec,
};
