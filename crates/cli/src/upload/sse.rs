//! A Server-Sent Events reader (the WHATWG `text/event-stream` format), enough for the
//! edge's job progress: `event` and `data` fields, multi-line data, comments (the
//! keep-alives), any of the three line endings, and chunks that split lines anywhere.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// `message` when the stream named none.
    pub name: String,
    pub data: String,
}

/// Bytes in, events out.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    /// The unfinished line (bytes, since a chunk may end inside a UTF-8 character).
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` right after it belongs to that ending.
    after_cr: bool,
    name: String,
    data: Vec<String>,
}

impl Reader {
    /// Feeds the next bytes of the stream; returns the events they completed.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
                    events.extend(self.line_ended(&line));
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    fn line_ended(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => value.clone_into(&mut self.name),
            "data" => self.data.push(value.to_owned()),
            _ => {} // id, retry: a reconnect starts from the job's current state anyway.
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let name = std::mem::take(&mut self.name);
        if self.data.is_empty() {
            return None;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        Some(Event { name: if name.is_empty() { "message".into() } else { name }, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event { name: name.into(), data: data.into() }
    }

    #[test]
    fn events_come_out_whole_however_the_stream_is_cut() {
        let stream =
            "event: progress\ndata: {\"phase\":\"queued\"}\n\n:\n\nevent: progress\ndata: {\"phase\":\"ready\"}\n\n";
        let expected = vec![event("progress", r#"{"phase":"queued"}"#), event("progress", r#"{"phase":"ready"}"#)];
        for cut in 1..stream.len() {
            let mut reader = Reader::default();
            let mut events = reader.push(&stream.as_bytes()[..cut]);
            events.extend(reader.push(&stream.as_bytes()[cut..]));
            assert_eq!(events, expected, "cut at {cut}");
        }
    }

    #[test]
    fn crlf_and_cr_endings_multi_line_data_and_unnamed_events_are_read() {
        let mut reader = Reader::default();
        let events = reader.push(b"data: a\r\ndata:b\r\n\r\nevent: error\rdata: {}\r\r: keep-alive\n\nid: 7\n\n");
        assert_eq!(events, vec![event("message", "a\nb"), event("error", "{}")]);
    }

    #[test]
    fn a_character_split_between_chunks_survives() {
        let mut reader = Reader::default();
        let bytes = "data: café\n\n".as_bytes();
        let split = bytes.len() - 3; // inside the two bytes of "é"
        assert!(reader.push(&bytes[..split]).is_empty());
        assert_eq!(reader.push(&bytes[split..]), vec![event("message", "café")]);
    }
}
