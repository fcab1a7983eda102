//! End-to-end tests: imgd in-process on port 0 against a scripted origin on port 0.
//! Themes: origin forms (`origins`), operations with pixel checks (`operations`), formats and
//! colour (`formats`), responses and errors (`responses`), fetch safety and limits (`fetching`).

mod cache;
mod corpus;
mod crash;
mod fetching;
mod formats;
mod invalidation;
mod operations;
mod origins;
mod overload;
mod responses;
mod security;
mod util;
