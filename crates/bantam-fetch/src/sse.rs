//! Server-sent events from a streamed HTTP response, parsed by `eventsource-stream` as the
//! HTML specification reads them: CR, LF and CRLF line ends, `data:` over several lines,
//! comments, `event:` and `id:` lines. Every SSE reader in Bantam goes through here (the
//! remote tier, the API bench).

use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::stream::{self, Stream, StreamExt};

pub use eventsource_stream::Event;

/// Why a stream of events stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("the connection broke: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("the event stream is not UTF-8")]
    NotUtf8,
    #[error("an event line could not be read: {0}")]
    Malformed(String),
}

/// The events of `response`'s body. A last event the server ended without its blank line
/// still counts: the specification drops it, but what such a server sent is the answer's
/// end, and dropping it loses words.
pub fn events(response: reqwest::Response) -> impl Stream<Item = Result<Event, SseError>> + Send {
    let chunks = stream::unfold(Some(response), |response| async move {
        let mut response = response?;
        match response.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(response))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    parse(chunks)
}

/// The events in a stream of byte chunks (for [`events`] and tests).
pub fn parse<S>(chunks: S) -> impl Stream<Item = Result<Event, SseError>> + Send
where
    S: Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send,
{
    let end = stream::once(async { Ok(bytes::Bytes::from_static(b"\n\n")) });
    chunks.chain(end).eventsource().map(|item| {
        item.map_err(|e| match e {
            EventStreamError::Transport(e) => SseError::Transport(e),
            EventStreamError::Utf8(_) => SseError::NotUtf8,
            EventStreamError::Parser(e) => SseError::Malformed(e.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn data_of(chunks: &[&'static str]) -> Vec<(String, String)> {
        let chunks = stream::iter(chunks.iter().map(|c| Ok(bytes::Bytes::from_static(c.as_bytes()))));
        parse(chunks)
            .map(|e| {
                let e = e.expect("an event");
                (e.event, e.data)
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn every_line_end_the_specification_allows_frames_events() {
        let message = |d: &str| ("message".to_string(), d.to_string());
        for framed in [
            vec!["data: a\n\ndata: b\n\n"],
            vec!["data: a\r\n\r\ndata: b\r\n\r\n"],
            vec!["data: a\r\rdata: b\r\r"],
            // Split inside the CRLF, and the last event without its blank line.
            vec!["data: a\r", "\n\r\ndata:", " b"],
        ] {
            assert_eq!(data_of(&framed).await, [message("a"), message("b")], "{framed:?}");
        }
        let rich = data_of(&[": keep-alive\n\nevent: delta\ndata: one\ndata: two\nid: 7\n\n"]).await;
        assert_eq!(rich, [("delta".to_string(), "one\ntwo".to_string())]);
    }
}
