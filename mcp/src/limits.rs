//! Input limits every transport applies: one JSON-RPC message is at most
//! [`MAX_MESSAGE_BYTES`]; a larger one is answered with [`too_large_response`] and not kept
//! in memory. [`MessageSplitter`] cuts a byte stream (stdio) into newline-delimited
//! messages under that cap; an HTTP front end stops reading a body past the cap.

use serde_json::Value;

use crate::{code, error_response};

/// The largest JSON-RPC message accepted: 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// The answer to a message over [`MAX_MESSAGE_BYTES`] (its id is unknown: it was not read).
pub fn too_large_response() -> Value {
    error_response(
        Value::Null,
        code::INVALID_REQUEST,
        &format!(
            "the message is larger than {} MiB and was not read; send smaller arguments",
            MAX_MESSAGE_BYTES >> 20
        ),
    )
}

/// What [`MessageSplitter::push`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// One whole message (without its line ending).
    Message(Vec<u8>),
    /// A message over the cap: its bytes were dropped up to its line ending.
    TooLarge,
}

/// Cuts newline-delimited messages out of a byte stream, keeping at most `max` bytes of a
/// message in memory: past that, the rest of the line is skipped as it arrives.
#[derive(Debug)]
pub struct MessageSplitter {
    max: usize,
    buf: Vec<u8>,
    skipping: bool,
}

impl Default for MessageSplitter {
    fn default() -> Self {
        MessageSplitter::new(MAX_MESSAGE_BYTES)
    }
}

impl MessageSplitter {
    /// A splitter with a cap of `max` bytes per message.
    pub fn new(max: usize) -> MessageSplitter {
        MessageSplitter {
            max,
            buf: Vec::new(),
            skipping: false,
        }
    }

    /// Feeds the next bytes of the stream; the messages they complete, in order.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (part, rest) = match newline {
                Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
                None => (bytes, None),
            };
            if !self.skipping {
                if self.buf.len() + part.len() > self.max {
                    self.buf = Vec::new();
                    self.skipping = true;
                    frames.push(Frame::TooLarge);
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            match rest {
                Some(rest) => {
                    if !self.skipping {
                        frames.push(Frame::Message(std::mem::take(&mut self.buf)));
                    }
                    self.skipping = false;
                    bytes = rest;
                }
                None => break,
            }
        }
        frames
    }

    /// The end of the stream: the last message, if it had no line ending.
    pub fn finish(&mut self) -> Option<Frame> {
        let skipped = std::mem::take(&mut self.skipping);
        let rest = std::mem::take(&mut self.buf);
        (!skipped && !rest.is_empty()).then_some(Frame::Message(rest))
    }

    /// The bytes held for the message being read (bounded by the cap).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Frame {
        Frame::Message(s.as_bytes().to_vec())
    }

    #[test]
    fn splits_lines_across_chunks() {
        let mut s = MessageSplitter::new(10);
        assert_eq!(s.push(b"ab"), []);
        assert_eq!(s.push(b"c\nde\n\nf"), [msg("abc"), msg("de"), msg("")]);
        assert_eq!(s.finish(), Some(msg("f")));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn a_message_over_the_cap_is_dropped_and_the_next_one_read() {
        let mut s = MessageSplitter::new(10);
        assert_eq!(s.push(b"0123456789"), []);
        assert_eq!(s.push(b"X"), [Frame::TooLarge]);
        assert_eq!(s.push(b"more and more"), []);
        assert_eq!(s.push(b"tail\nok\n"), [msg("ok")]);
        assert_eq!(s.push(b"01234567890\n"), [Frame::TooLarge]);
        assert_eq!(s.push(b"0123456789\n"), [msg("0123456789")]);
        s.push(b"01234567890123");
        assert_eq!(s.finish(), None);
    }

    /// 100 MiB on one line never holds more than the cap in memory.
    #[test]
    fn memory_stays_bounded() {
        let mut s = MessageSplitter::default();
        let chunk = vec![b'a'; 64 << 10];
        let mut frames = Vec::new();
        for _ in 0..(100 << 20) / chunk.len() {
            frames.extend(s.push(&chunk));
            assert!(s.buffered() <= 2 * MAX_MESSAGE_BYTES, "{}", s.buffered());
        }
        frames.extend(s.push(b"\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"));
        assert_eq!(
            frames,
            [
                Frame::TooLarge,
                msg("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")
            ]
        );
        assert_eq!(too_large_response()["error"]["code"], code::INVALID_REQUEST);
    }
}
