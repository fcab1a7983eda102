//! Every failure a client can see, mapped to a status and a stable machine-readable code in
//! one exhaustive match (no catch-all arm: a new variant does not compile until it is mapped).
//! Bodies carry a short public message; internal details are logged, never sent.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use imgd_pipeline::PipelineError;
use imgd_url::ParseError;
use serde_json::json;
use thiserror::Error;

use crate::origin::FetchError;
use crate::variant::ProduceError;

/// Header naming the error code on every error response.
pub const ERROR_HEADER: &str = "x-imgd-error";

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The Host names a token that does not exist (or there is no default token).
    #[error("unknown token")]
    UnknownToken,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A decoder panicked on this input; the process survived.
    #[error("the image could not be decoded")]
    DecoderPanic,
    /// A bug or a failed worker; details are logged.
    #[error("internal error")]
    Internal(String),
    /// `POST /invalidate` without a known `X-Client-Key`.
    #[error("missing or unknown X-Client-Key")]
    Unauthorized,
    /// An invalidation body that cannot be carried out; the reason is for the client.
    #[error("{0}")]
    InvalidBody(String),
    #[error("request body too large")]
    BodyTooLarge,
    #[error("cache failure: {0}")]
    Cache(imgd_cache::CacheError),
    /// Too much work in progress; retry shortly.
    #[error("the server is overloaded, retry shortly")]
    Overloaded,
    /// The request did not complete within `server.request_timeout_ms`.
    #[error("the request took too long")]
    RequestTimeout,
}

impl From<ProduceError> for ApiError {
    fn from(e: ProduceError) -> Self {
        match e {
            ProduceError::Fetch(e) => ApiError::Fetch(e),
            ProduceError::Pipeline(e) => ApiError::Pipeline(e),
            ProduceError::DecoderPanic => ApiError::DecoderPanic,
            ProduceError::Worker(e) => ApiError::Internal(e),
            ProduceError::Overloaded => ApiError::Overloaded,
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Parse(e) => match e {
                ParseError::InvalidValue { .. }
                | ParseError::UnknownPreset(_)
                | ParseError::MissingOrigin
                | ParseError::UnknownAlias(_)
                | ParseError::InvalidOrigin(_)
                | ParseError::NoOriginForPath
                | ParseError::PathTraversal => StatusCode::BAD_REQUEST,
                ParseError::MissingVersionPrefix => StatusCode::NOT_FOUND,
                ParseError::SignatureMissing
                | ParseError::SignatureInvalid
                | ParseError::SealInvalid
                | ParseError::SealEncoding => StatusCode::FORBIDDEN,
            },
            ApiError::Fetch(e) => match e {
                FetchError::HostNotAllowed(_) | FetchError::AddressNotAllowed => {
                    StatusCode::FORBIDDEN
                }
                FetchError::NotFound(_) | FetchError::Unreachable(_) => StatusCode::NOT_FOUND,
                FetchError::OriginStatus(_)
                | FetchError::Truncated
                | FetchError::TooManyRedirects
                | FetchError::BadRedirect => StatusCode::BAD_GATEWAY,
                FetchError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                FetchError::TooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                FetchError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Pipeline(e) => match e {
                PipelineError::UnsupportedFormat
                | PipelineError::Undecodable(_)
                | PipelineError::SourceTooLarge { .. }
                | PipelineError::TooManyFrames { .. }
                | PipelineError::AnimationTooLarge { .. }
                | PipelineError::DecodeMemory => StatusCode::UNPROCESSABLE_ENTITY,
                PipelineError::OutputTooLarge { .. } | PipelineError::EmptyCrop { .. } => {
                    StatusCode::BAD_REQUEST
                }
                PipelineError::Encode(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::UnknownToken => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::DecoderPanic => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) | ApiError::Cache(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Parse(e) => match e {
                ParseError::InvalidValue { .. } => "invalid-parameter",
                ParseError::UnknownPreset(_) => "unknown-preset",
                ParseError::MissingVersionPrefix => "missing-version-prefix",
                ParseError::MissingOrigin => "missing-origin",
                ParseError::UnknownAlias(_) => "unknown-alias",
                ParseError::InvalidOrigin(_) => "invalid-origin",
                ParseError::NoOriginForPath => "no-origin-for-path",
                ParseError::PathTraversal => "path-traversal",
                ParseError::SignatureMissing => "signature-missing",
                ParseError::SignatureInvalid => "signature-invalid",
                ParseError::SealInvalid => "seal-invalid",
                ParseError::SealEncoding => "seal-invalid",
            },
            ApiError::Fetch(e) => fetch_code(e),
            ApiError::Pipeline(e) => match e {
                PipelineError::UnsupportedFormat => "unsupported-format",
                PipelineError::Undecodable(_) => "undecodable-image",
                PipelineError::SourceTooLarge { .. } => "source-too-large",
                PipelineError::DecodeMemory => "decode-memory-limit",
                PipelineError::TooManyFrames { .. } => "too-many-frames",
                PipelineError::AnimationTooLarge { .. } => "animation-too-large",
                PipelineError::OutputTooLarge { .. } => "output-too-large",
                PipelineError::EmptyCrop { .. } => "empty-crop",
                PipelineError::Encode(_) => "encode-failed",
            },
            ApiError::UnknownToken => "unknown-token",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::DecoderPanic => "decoder-panic",
            ApiError::Internal(_) => "internal",
            ApiError::Cache(_) => "cache-failure",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidBody(_) => "invalid-body",
            ApiError::BodyTooLarge => "body-too-large",
            ApiError::Overloaded => "overloaded",
            ApiError::RequestTimeout => "request-timeout",
        }
    }

    /// What the client is told. 5xx details (file system errors, bugs) stay in the log.
    fn public_message(&self) -> String {
        match self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            true => "internal error".to_string(),
            false => self.to_string(),
        }
    }
}

/// The code of a fetch failure (also used by missing-origin answers).
pub fn fetch_code(e: &FetchError) -> &'static str {
    match e {
        FetchError::HostNotAllowed(_) => "origin-not-whitelisted",
        FetchError::AddressNotAllowed => "origin-address-forbidden",
        FetchError::NotFound(_) => "origin-not-found",
        FetchError::Unreachable(_) => "origin-unreachable",
        FetchError::OriginStatus(_) => "origin-error",
        FetchError::Timeout => "origin-timeout",
        FetchError::TooLarge { .. } => "source-too-large",
        FetchError::Truncated => "origin-truncated",
        FetchError::TooManyRedirects => "too-many-redirects",
        FetchError::BadRedirect => "bad-redirect",
        FetchError::Io(_) => "file-origin-io",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::debug!(code = self.code(), error = %self, "request refused");
        }
        let mut body = json!({
            "status": status.as_u16(),
            "code": self.code(),
            "message": self.public_message(),
        });
        if let ApiError::Parse(ParseError::InvalidValue {
            param,
            value,
            expected,
        }) = &self
        {
            body["parameter"] = json!(param);
            body["value"] = json!(value);
            body["accepted"] = json!(expected);
        }
        let mut resp = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(ERROR_HEADER, HeaderValue::from_static(self.code()));
        h.insert("cache-control", HeaderValue::from_static("no-store"));
        if matches!(self, ApiError::Overloaded) {
            h.insert("retry-after", HeaderValue::from_static("1"));
        }
        resp
    }
}
