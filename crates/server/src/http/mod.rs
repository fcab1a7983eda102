//! The HTTP layer: routes, one handler per endpoint, error → status mapping, response
//! building. The only place that knows status codes.

pub mod error;
mod health;
mod invalidate;
mod missing;
mod respond;
mod router;
mod transform;

pub use router::app;
