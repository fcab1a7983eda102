//! Choosing the output format: `force_format`, else content negotiation (when the token
//! enables it), else the source's own format.

use imgd_url::OutputFormat;

use crate::source::SourceFormat;

/// What the server learned from the token and the client's `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Negotiation {
    /// The token negotiates WebP and the client accepts `image/webp`.
    pub webp: bool,
}

pub fn choose(
    forced: Option<OutputFormat>,
    source: SourceFormat,
    negotiated: Negotiation,
) -> OutputFormat {
    if let Some(f) = forced {
        return f;
    }
    if negotiated.webp {
        return OutputFormat::Webp;
    }
    match source {
        SourceFormat::Jpeg => OutputFormat::Jpeg,
        SourceFormat::Png => OutputFormat::Png,
        SourceFormat::Gif => OutputFormat::Gif,
        SourceFormat::Webp => OutputFormat::Webp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let webp = Negotiation { webp: true };
        assert_eq!(
            choose(Some(OutputFormat::Png), SourceFormat::Jpeg, webp),
            OutputFormat::Png
        );
        assert_eq!(choose(None, SourceFormat::Jpeg, webp), OutputFormat::Webp);
        assert_eq!(
            choose(None, SourceFormat::Jpeg, Negotiation::default()),
            OutputFormat::Jpeg
        );
        assert_eq!(
            choose(None, SourceFormat::Gif, Negotiation::default()),
            OutputFormat::Gif
        );
    }
}
