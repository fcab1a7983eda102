//! # imgd: a Cloudimage-compatible image server
//!
//! Layout (see ARCHITECTURE.md):
//! - `config`: the configuration tree, loading, validation;
//! - `token`: tokens at run time and their choice by `Host`;
//! - `origin`: fetching originals (HTTP with SSRF guard and limits; file aliases);
//! - `variant`: cache lookup, coalesced fetch + transform, revalidation (`flight`, `metrics`);
//! - `http`: routes, handlers, error mapping, responses;
//! - `state`, `server`, `cli`: wiring.
//!
//! URL grammar lives in `imgd-url`; pixels in `imgd-pipeline`.

pub mod cli;
pub mod config;
pub mod flight;
pub mod http;
pub mod invalidate;
pub mod metrics;
pub mod origin;
pub mod parsed;
pub mod server;
pub mod state;
pub mod token;
pub mod variant;
