//! Objects made of the parts of a completed multipart upload, as MinIO, Ceph and Garage
//! keep them: the parts stay where they were uploaded and a manifest lists them, so a
//! completion moves no byte. s3s-fs's own layout still holds the object: at its path a
//! sparse file of the object's size (so s3s-fs's HEAD, listing and metadata answer as for
//! any object), and the manifest, named by that file's inode and modification time, says
//! where its bytes are.
//! A manifest counts only while that very file (inode, size and modification time) is
//! still the object's: one replaced by a plain PUT is served as the PUT wrote it.

use std::{
    ops::Range,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_stream::wrappers::ReceiverStream;

/// Read from a part file at a time.
const READ_BYTES: usize = 256 * 1024;

#[derive(Serialize, Deserialize)]
pub(super) struct Manifest {
    /// The file at the object's path this manifest belongs to.
    ino: u64,
    modified_ns: u64,
    pub(super) size: u64,
    /// Part files in the root, in order, with their sizes.
    parts: Vec<(String, u64)>,
}

impl Manifest {
    pub(super) fn new(parts: Vec<(String, u64)>) -> Self {
        let size = parts.iter().map(|(_, size)| size).sum();
        Self { ino: 0, modified_ns: 0, size, parts }
    }

    /// Belongs to the file `meta` describes from now on.
    pub(super) fn bind(&mut self, meta: &std::fs::Metadata) {
        (self.ino, self.modified_ns) = (meta.ino(), modified_ns(meta));
    }

    /// Named by the file's inode and modification time: a freed inode the file system
    /// hands to a new stand-in never finds the old object's manifest under its name.
    fn path(root: &Path, ino: u64, modified_ns: u64) -> PathBuf {
        root.join(format!(".assembled-ino-{ino}-{modified_ns}.json"))
    }

    pub(super) async fn write(&self, root: &Path) -> std::io::Result<()> {
        let path = Self::path(root, self.ino, self.modified_ns);
        let staging = path.with_extension("json.tmp");
        tokio::fs::write(&staging, serde_json::to_vec(self)?).await?;
        tokio::fs::rename(&staging, &path).await
    }

    /// The manifest of the object file at `object`, if it is an assembled one.
    pub(super) async fn of(root: &Path, object: &Path) -> Option<Self> {
        let meta = tokio::fs::metadata(object).await.ok()?;
        let content = tokio::fs::read(Self::path(root, meta.ino(), modified_ns(&meta))).await.ok()?;
        let manifest: Self = serde_json::from_slice(&content).ok()?;
        (manifest.size == meta.len()).then_some(manifest)
    }

    /// Whether both name the same stand-in.
    pub(super) fn same(&self, other: &Self) -> bool {
        (self.ino, self.modified_ns) == (other.ino, other.modified_ns)
    }

    /// The manifest and the parts it names.
    pub(super) async fn remove(self, root: &Path) {
        for (name, _) in &self.parts {
            let _ = tokio::fs::remove_file(root.join(name)).await;
        }
        let _ = tokio::fs::remove_file(Self::path(root, self.ino, self.modified_ns)).await;
    }

    /// The bytes in `span`, read from the parts as the connection takes them.
    pub(super) fn read(self, root: &Path, span: Range<u64>) -> ReceiverStream<std::io::Result<Bytes>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let root = root.to_owned();
        tokio::spawn(async move {
            if let Err(error) = self.send(&root, span, &tx).await {
                let _ = tx.send(Err(error)).await;
            }
        });
        ReceiverStream::new(rx)
    }

    async fn send(
        &self,
        root: &Path,
        span: Range<u64>,
        tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (name, size) in &self.parts {
            let part = start..start + size;
            start = part.end;
            let (from, to) = (span.start.max(part.start), span.end.min(part.end));
            if from >= to {
                continue;
            }
            let mut file = tokio::fs::File::open(root.join(name)).await?;
            file.seek(std::io::SeekFrom::Start(from - part.start)).await?;
            let mut reader = file.take(to - from);
            loop {
                let mut buffer = bytes::BytesMut::with_capacity(READ_BYTES);
                if reader.read_buf(&mut buffer).await? == 0 {
                    break;
                }
                if tx.send(Ok(buffer.freeze())).await.is_err() {
                    return Ok(()); // the client went away
                }
            }
            if reader.limit() > 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{name} is short")));
            }
        }
        Ok(())
    }
}

fn modified_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified().ok().and_then(|at| at.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64)
}
