//! A multipart upload's completion: what S3 checks (the listed ETags are the stored
//! parts', every part but the last holds 5 MiB, part numbers rise), then the object is
//! made of the parts where they lie ([`super::assembled`]), so no byte is read or written
//! again. A refused completion changes nothing; a completed one leaves none of the
//! upload's own files behind.

use md5::{Digest, Md5};
use s3s::{
    S3Result,
    dto::{self, ETag},
    s3_error,
};

use super::{
    assembled::Manifest,
    server::{Server, io_error},
};

/// The smallest part S3 takes, except for the last one.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

impl Server {
    pub(super) async fn complete(
        &self,
        input: &dto::CompleteMultipartUploadInput,
        credentials: Option<&s3s::auth::Credentials>,
    ) -> S3Result<dto::CompleteMultipartUploadOutput> {
        let upload_id = &input.upload_id;
        uuid_only(upload_id)?;
        self.began_by(upload_id, credentials).await?;
        let listed = input.multipart_upload.as_ref().and_then(|m| m.parts.as_deref()).unwrap_or_default();
        if listed.is_empty() {
            return Err(s3_error!(InvalidPart, "You must specify at least one part"));
        }
        let (files, e_tag) = self.checked_parts(upload_id, listed).await?;

        let object = self.object_path(&input.bucket, &input.key)?;
        if let Some(folder) = object.parent() {
            tokio::fs::create_dir_all(folder).await.map_err(io_error)?;
        }
        let replaced = Manifest::of(&self.root, &object).await;
        static COMPLETIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nth = COMPLETIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let staging = self.internal(format!(".tmp.complete-{upload_id}-{nth}.internal.part"));
        let manifest = match self.assemble(&files, &staging, nth).await {
            Ok(manifest) => manifest,
            Err((error, made)) => {
                // Nothing of this attempt stays: the upload is as it was, and a retry finds it.
                for name in made {
                    let _ = tokio::fs::remove_file(self.internal(name)).await;
                }
                let _ = tokio::fs::remove_file(&staging).await;
                return Err(io_error(error));
            }
        };
        if let Err(error) = tokio::fs::rename(&staging, &object).await {
            manifest.remove(&self.root).await;
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(io_error(error));
        }
        let info = serde_json::json!({ "e_tag": e_tag });
        let info_path = self.object_file(".internal.json", &input.bucket, &input.key);
        let info_staging = self.internal(format!(".tmp.complete-{upload_id}-{nth}.internal.json"));
        tokio::fs::write(&info_staging, info.to_string()).await.map_err(io_error)?;
        tokio::fs::rename(&info_staging, &info_path).await.map_err(io_error)?;
        if let Some(replaced) = replaced {
            replaced.remove(&self.root).await;
        }
        // The attributes given at creation (content type) become the object's.
        let attributes = self.object_file(&format!(".upload-{upload_id}.metadata.json"), &input.bucket, &input.key);
        if tokio::fs::metadata(&attributes).await.is_ok() {
            let to = self.object_file(".metadata.json", &input.bucket, &input.key);
            tokio::fs::rename(&attributes, &to).await.map_err(io_error)?;
        }
        // Parts the completion did not list go too, as in S3.
        self.remove_parts(upload_id).await?;
        let _ = tokio::fs::remove_file(self.internal(format!(".upload-{upload_id}.json"))).await;

        Ok(dto::CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(e_tag)),
            ..Default::default()
        })
    }

    /// The object made of `files` where they lie: each part linked under the object's own
    /// name (no byte copied; the upload's names go only once the object is in place), its
    /// manifest, and its stand-in at `staging`, a sparse file of the object's size written
    /// beside the root's other temporary files (s3s-fs clears them at start), to be renamed
    /// into place so a reader sees the old object or the whole new one. On failure, the
    /// names it made so far.
    async fn assemble(
        &self,
        files: &[(std::path::PathBuf, u64)],
        staging: &std::path::Path,
        nth: u64,
    ) -> Result<Manifest, (std::io::Error, Vec<String>)> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let mut parts = Vec::with_capacity(files.len());
        for (index, (file, size)) in files.iter().enumerate() {
            let name = format!(".assembled-{stamp}-{nth}.part-{}", index + 1);
            if let Err(error) = tokio::fs::hard_link(file, self.internal(name.clone())).await {
                return Err((error, parts.into_iter().map(|(name, _)| name).collect()));
            }
            parts.push((name, *size));
        }
        let names: Vec<String> = parts.iter().map(|(name, _)| name.clone()).collect();
        let mut manifest = Manifest::new(parts);
        let stand_in = async {
            let file = tokio::fs::File::create(staging).await?;
            file.set_len(manifest.size).await?;
            manifest.bind(&file.metadata().await?);
            manifest.write(&self.root).await
        };
        match stand_in.await {
            Ok(()) => Ok(manifest),
            Err(error) => Err((error, names)),
        }
    }

    /// The listed parts' files and sizes, once each is found to be what S3 would take, and
    /// the object's ETag (`<md5 of the part MD5s>-<count>`).
    async fn checked_parts(
        &self,
        upload_id: &str,
        listed: &[dto::CompletedPart],
    ) -> S3Result<(Vec<(std::path::PathBuf, u64)>, String)> {
        let (mut files, mut md5s, mut previous) = (Vec::new(), Vec::new(), 0);
        for (index, part) in listed.iter().enumerate() {
            let number = part.part_number.ok_or_else(|| s3_error!(InvalidRequest, "missing part number"))?;
            if number <= previous {
                return Err(s3_error!(InvalidPartOrder));
            }
            previous = number;
            let file = self.internal(format!(".upload_id-{upload_id}.part-{number}"));
            let kept = tokio::fs::read_to_string(self.part_md5_path(upload_id, number)).await;
            let size = tokio::fs::metadata(&file).await.map(|m| m.len());
            let (Ok(kept), Ok(size)) = (kept, size) else {
                return Err(s3_error!(InvalidPart, "part {number} was not uploaded"));
            };
            if part.e_tag.as_ref().map(ETag::value) != Some(kept.as_str()) {
                return Err(s3_error!(InvalidPart, "part {number}'s ETag is not the stored part's"));
            }
            if index + 1 < listed.len() && size < MIN_PART_BYTES {
                return Err(s3_error!(EntityTooSmall));
            }
            let md5: Vec<u8> = (0..kept.len() / 2)
                .map(|i| u8::from_str_radix(&kept[2 * i..2 * i + 2], 16))
                .collect::<Result<_, _>>()
                .map_err(|e| s3_error!(e, InternalError))?;
            md5s.extend_from_slice(&md5);
            files.push((file, size));
        }
        Ok((files, format!("{}-{}", hex(&Md5::digest(&md5s)), listed.len())))
    }

    /// Whether `upload_id` is an upload this caller began (s3s-fs keeps its access key).
    async fn began_by(&self, upload_id: &str, credentials: Option<&s3s::auth::Credentials>) -> S3Result<()> {
        let info = self.internal(format!(".upload-{upload_id}.json"));
        let Ok(content) = tokio::fs::read(&info).await else { return Err(s3_error!(NoSuchUpload)) };
        let began: Option<String> = serde_json::from_slice(&content).map_err(|e| s3_error!(e, InternalError))?;
        if began.as_deref() != credentials.map(|c| c.access_key.as_str()) {
            return Err(s3_error!(AccessDenied));
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// s3s-fs's upload ids are UUIDs; anything else could name another file.
fn uuid_only(upload_id: &str) -> S3Result<()> {
    let uuid_like = upload_id.len() == 36 && upload_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if uuid_like { Ok(()) } else { Err(s3_error!(NoSuchUpload)) }
}
