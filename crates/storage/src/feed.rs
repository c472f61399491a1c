//! A part whose bytes are still arriving: its upload starts with its first bytes and
//! takes the rest as they come, so a resumable upload's request and the store's part
//! overlap instead of one waiting for the other. The writer knows the part's size in
//! advance (S3 needs it) and feeds exactly that many bytes through a bounded channel; a
//! feed that closes short fails the part, which the store then never keeps.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// Chunks a part may have waiting for the store: the only memory a fed part holds.
const WAITING_CHUNKS: usize = 4;

/// The writer's end: sends the part's bytes, in order.
pub type FeedSender = mpsc::Sender<Bytes>;

/// A new feed for a part of `size` bytes: the writer's end, and the part's body.
pub fn feed(size: u64) -> (FeedSender, PartFeed) {
    let (sender, receiver) = mpsc::channel(WAITING_CHUNKS);
    (sender, PartFeed { receiver, remaining: size })
}

/// The store's end: an HTTP body of exactly the part's size.
pub struct PartFeed {
    receiver: mpsc::Receiver<Bytes>,
    remaining: u64,
}

impl PartFeed {
    /// The next bytes; `None` at the end of the part, an error when the feed closed short
    /// or brought more than the part holds.
    pub async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<std::io::Result<Bytes>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(bytes)) => match self.remaining.checked_sub(bytes.len() as u64) {
                Some(left) => {
                    self.remaining = left;
                    Poll::Ready(Some(Ok(bytes)))
                }
                None => Poll::Ready(Some(Err(std::io::Error::other("more bytes than the part holds")))),
            },
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the request ended before the part was whole",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Body for PartFeed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.get_mut().poll_chunk(cx).map(|chunk| chunk.map(|result| result.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_feed_gives_exactly_its_size_and_fails_when_closed_short() {
        let (sender, mut whole) = feed(5);
        sender.send(Bytes::from_static(b"abc")).await.unwrap();
        sender.send(Bytes::from_static(b"de")).await.unwrap();
        assert_eq!(whole.next().await.unwrap().unwrap(), "abc");
        assert_eq!(whole.size_hint().exact(), Some(2));
        assert_eq!(whole.next().await.unwrap().unwrap(), "de");
        assert!(whole.next().await.is_none(), "the part ends at its size");

        let (sender, mut short) = feed(5);
        sender.send(Bytes::from_static(b"abc")).await.unwrap();
        drop(sender);
        assert_eq!(short.next().await.unwrap().unwrap(), "abc");
        let error = short.next().await.unwrap().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);

        let (sender, mut long) = feed(2);
        sender.send(Bytes::from_static(b"abc")).await.unwrap();
        assert!(long.next().await.unwrap().is_err(), "more than the part holds");
    }
}
