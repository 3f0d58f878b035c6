//! JSON-RPC messages, one per line, over a pair of byte streams (stdin and stdout).
//!
//! rmcp's own stdio transport drops a line that is not JSON without a word, and answers a
//! message of the wrong shape without its id. This one answers both as JSON-RPC says: a
//! parse error (-32700) for a line that is not JSON, and an invalid request (-32600) error
//! carrying the request's id for one that is JSON but not a message. Notifications never get
//! an answer. (A standard request with bad parameters reads as a custom one: the server
//! answers it with invalid params.)

use std::io;
use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{ErrorData, JsonRpcError, JsonRpcVersion2_0, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// The longest message read; a longer line is discarded and answered with an error.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// Newline-delimited JSON-RPC over `reader` and `writer`.
pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    writer: Arc<Mutex<W>>,
    /// The line read so far. Kept across calls: rmcp drops an unfinished `receive` whenever
    /// something else is ready, and the next call must go on with the same line.
    line: Vec<u8>,
    /// Skipping the rest of a line longer than [`MAX_LINE`].
    discarding: bool,
}

impl<R, W> std::fmt::Debug for LineTransport<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTransport").field("buffered", &self.line.len()).finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> LineTransport<R, W> {
    /// A transport reading messages from `reader` and writing them to `writer`.
    pub fn new(reader: R, writer: W) -> Self {
        Self {
            reader: BufReader::new(reader),
            writer: Arc::new(Mutex::new(writer)),
            line: Vec::new(),
            discarding: false,
        }
    }
}

/// What one line holds.
#[derive(Debug)]
enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Not a message: answer this (with the request's id when it had one).
    Answer(Option<RequestId>, ErrorData),
    /// Nothing to deliver or answer (a blank line, a malformed notification).
    Nothing,
}

/// Reads one line as a client message, or says what to answer.
fn parse(line: &[u8]) -> Line {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Nothing;
    }
    // The common case parses once; only a message that fails is looked at twice.
    let error = match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
        Ok(message) => return Line::Message(Box::new(message)),
        Err(e) => e,
    };
    let value = match serde_json::from_slice::<Value>(line) {
        Ok(value) => value,
        Err(e) => {
            return Line::Answer(
                None,
                ErrorData::parse_error(format!("the line is not JSON: {e}"), None),
            );
        }
    };
    let id = value.get("id").and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    let Some(object) = value.as_object() else {
        return Line::Answer(
            None,
            ErrorData::invalid_request(
                "a message must be one JSON-RPC 2.0 object (batches are not part of MCP)",
                None,
            ),
        );
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Line::Answer(
            id,
            ErrorData::invalid_request("`jsonrpc` must be \"2.0\" (a JSON-RPC 2.0 message)", None),
        );
    }
    // A notification is never answered, even when it is wrong.
    if object.get("method").is_some() && object.get("id").is_none() {
        return Line::Nothing;
    }
    Line::Answer(id, ErrorData::invalid_request(format!("not an MCP message: {error}"), None))
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let bytes = serde_json::to_vec(&item);
        let writer = Arc::clone(&self.writer);
        async move {
            let mut bytes = bytes.map_err(io::Error::other)?;
            bytes.push(b'\n');
            write_line(&writer, &bytes).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            // At least one byte of room: an overlong line is cleared before the next read.
            let room = (MAX_LINE + 1).saturating_sub(self.line.len()) as u64;
            // Cancel-safe: what was read stays in `self.line` for the next call.
            let read = (&mut self.reader).take(room).read_until(b'\n', &mut self.line).await;
            match read {
                Err(_) => return None,
                Ok(_) if self.line.ends_with(b"\n") => {}
                // The end of input; a last line without a newline still counts.
                Ok(0) if self.line.is_empty() || self.discarding => return None,
                Ok(0) => {}
                Ok(_) if self.line.len() > MAX_LINE => {
                    // No end in sight: drop this line, answer once, skip to its end.
                    if !self.discarding {
                        self.discarding = true;
                        self.answer(
                            None,
                            ErrorData::invalid_request(
                                format!(
                                    "a message is longer than {MAX_LINE} bytes; it was skipped"
                                ),
                                None,
                            ),
                        );
                    }
                    self.line.clear();
                    continue;
                }
                // Input ended inside a line: the next read says so.
                Ok(_) => continue,
            }
            let parsed = if std::mem::take(&mut self.discarding) {
                Line::Nothing // the end of an overlong line, already answered
            } else {
                parse(self.line.strip_suffix(b"\n").unwrap_or(&self.line))
            };
            self.line.clear();
            match parsed {
                Line::Message(message) => return Some(*message),
                Line::Answer(id, error) => self.answer(id, error),
                Line::Nothing => {}
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await
    }
}

impl<R, W: AsyncWrite + Unpin + Send + 'static> LineTransport<R, W> {
    /// Sends an error answer from a task of its own: `receive` may be dropped at any await,
    /// and a half-written answer would corrupt the stream.
    fn answer(&self, id: Option<RequestId>, error: ErrorData) {
        let message = JsonRpcError { jsonrpc: JsonRpcVersion2_0, id, error };
        let Ok(mut bytes) = serde_json::to_vec(&message) else { return };
        bytes.push(b'\n');
        let writer = Arc::clone(&self.writer);
        tokio::spawn(async move {
            // A client that has gone cannot be told; the read side sees the end next.
            let _ = write_line(&writer, &bytes).await;
        });
    }
}

async fn write_line<W: AsyncWrite + Unpin>(writer: &Mutex<W>, bytes: &[u8]) -> io::Result<()> {
    let mut writer = writer.lock().await;
    writer.write_all(bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str) -> (Option<RequestId>, ErrorData) {
        match parse(line.as_bytes()) {
            Line::Answer(id, e) => (id, e),
            other => panic!("expected an answer to {line}, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_is_delivered() {
        let line = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        assert!(matches!(parse(line.as_bytes()), Line::Message(_)));
    }

    #[test]
    fn not_json_is_a_parse_error_without_id() {
        let (id, e) = answer("{this is not json");
        assert_eq!(id, None);
        assert_eq!(e.code, rmcp::model::ErrorCode::PARSE_ERROR);
        assert!(e.message.contains("not JSON"), "{}", e.message);
    }

    #[test]
    fn a_request_that_cannot_be_read_keeps_its_id() {
        let (id, e) = answer(r#"{"jsonrpc":"2.0","id":7,"method":5}"#);
        assert_eq!(id, Some(RequestId::Number(7)));
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_REQUEST);
        assert!(e.message.contains("not an MCP message"), "{}", e.message);
    }

    #[test]
    fn wrong_envelopes_are_invalid_requests() {
        let (_, e) = answer("[1, 2]");
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_REQUEST);
        let (id, e) = answer(r#"{"jsonrpc":"1.0","id":"a","method":"ping"}"#);
        assert_eq!(id, Some(RequestId::String("a".into())));
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn blank_lines_and_broken_notifications_are_not_answered() {
        assert!(matches!(parse(b"  \r"), Line::Nothing));
        let line = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":7}"#;
        assert!(matches!(parse(line.as_bytes()), Line::Nothing));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn answers_and_messages_go_through_the_streams() {
        let (mut client, server) = tokio::io::duplex(1024);
        let (read, write) = tokio::io::split(server);
        let mut transport = LineTransport::new(read, write);
        client
            .write_all(b"garbage\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n")
            .await
            .expect("write");
        let message = transport.receive().await.expect("a message");
        assert!(serde_json::to_string(&message).expect("json").contains("\"ping\""));
        let mut reply = vec![0; 256];
        let n = client.read(&mut reply).await.expect("read");
        let reply: Value = serde_json::from_slice(&reply[..n]).expect("one JSON line");
        assert_eq!(reply["error"]["code"], -32700);
        assert!(reply.get("id").is_none(), "{reply}");
        drop(client);
        assert!(transport.receive().await.is_none(), "closed input ends the stream");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_overlong_line_is_skipped_and_answered() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (read, write) = tokio::io::split(server);
        let mut transport = LineTransport::new(read, write);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            let chunk = vec![b'x'; 1024 * 1024];
            for _ in 0..17 {
                client_write.write_all(&chunk).await.expect("write");
            }
            client_write
                .write_all(b"\n{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}\n")
                .await
                .expect("write");
            client_write
        });
        let message = transport.receive().await.expect("the message after the long line");
        assert!(serde_json::to_string(&message).expect("json").contains("\"id\":4"));
        let _open = writer.await.expect("writer");
        let mut reply = vec![0; 256];
        let n = client_read.read(&mut reply).await.expect("read");
        let reply: Value = serde_json::from_slice(&reply[..n]).expect("one JSON line");
        assert_eq!(reply["error"]["code"], -32600, "{reply}");
    }
}
