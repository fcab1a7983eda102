//! Everything that can be wrong with a request URL. Each variant carries what the client needs
//! to fix it; the HTTP layer maps variants to statuses and machine-readable codes.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A known parameter with a value it does not accept (`w=abc`, `func=zoom`, `q=500`).
    #[error("invalid value {value:?} for parameter {param}: expected {expected}")]
    InvalidValue {
        param: &'static str,
        value: String,
        expected: &'static str,
    },
    /// `p=NAME` where the token has no such preset.
    #[error("unknown preset {0:?}")]
    UnknownPreset(String),
    /// The token requires the `/v7/` prefix and the path lacks it.
    #[error("this token requires the /v7/ prefix")]
    MissingVersionPrefix,
    /// Nothing after the host (and prefix) names an image.
    #[error("the URL names no origin image")]
    MissingOrigin,
    /// `/_name_/...` where the token has no such alias.
    #[error("unknown alias {0:?}")]
    UnknownAlias(String),
    /// The origin part cannot be an image URL (bad host, userinfo, bad port, bad encoding).
    #[error("invalid origin URL: {0}")]
    InvalidOrigin(&'static str),
    /// A relative path with no scheme-less host and no origin prefix configured.
    #[error("the path is neither a URL, an alias nor relative to an origin prefix")]
    NoOriginForPath,
    /// A file-alias path that tries to leave its directory (`..`, encoded separators, NUL).
    #[error("the path leaves the alias directory")]
    PathTraversal,
    /// The token requires signed URLs and this one has no `ci_sign`.
    #[error("this token requires signed URLs (ci_sign)")]
    SignatureMissing,
    /// `ci_sign` does not match the URL.
    #[error("invalid URL signature")]
    SignatureInvalid,
    /// The token requires sealed URLs and `ci_seal` is missing or does not match `ci_eqs`.
    #[error("missing or invalid URL seal (ci_seal)")]
    SealInvalid,
    /// `ci_eqs` is not base64 of a query string.
    #[error("ci_eqs is not valid base64")]
    SealEncoding,
}
