//! s3s-fs with a multipart completion closer to what AWS and MinIO do. s3s-fs completes
//! an upload by reading every part back in user space, hashing it with MD5 a second time
//! and writing it out again: for a 2 GiB upload that is more server CPU than the upload
//! itself (measured with `perf` in `bench/upload`), on the same two cores the services
//! under test run on. AWS and MinIO complete without touching the bytes. Here each part's
//! MD5 is kept from when the part arrived (beside the part, so a restarted server still
//! has it), the listed ETags are checked against them as S3 does (`InvalidPart`), and the
//! parts are joined with `std::io::copy`, which is a `copy_file_range` in the kernel on
//! Linux. Everything else is s3s-fs as it is, and the object, its ETag (`<md5 of the part
//! MD5s>-<count>`) and its metadata land in s3s-fs's own layout, so its reads serve them.

use std::path::{Component, Path, PathBuf};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use md5::{Digest, Md5};
use s3s::{
    S3, S3Request, S3Response, S3Result,
    dto::{self, ETag},
    s3_error,
};
use s3s_fs::FileSystem;

/// The smallest part S3 takes, except for the last one.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

pub(super) struct Server {
    inner: FileSystem,
    root: PathBuf,
}

impl Server {
    pub(super) fn new(root: &Path) -> anyhow::Result<Self> {
        let inner = FileSystem::new(root).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        // As s3s-fs resolves it, so both name the same files.
        let root = std::env::current_dir()?.join(root).canonicalize()?;
        Ok(Self { inner, root })
    }

    /// A file of s3s-fs's own in the root (its names start with a dot).
    fn internal(&self, name: String) -> PathBuf {
        self.root.join(name)
    }

    /// Named apart from s3s-fs's own part files (`.upload_id-<id>.part-<n>`), which its
    /// ListParts and the tests read.
    fn part_md5_path(&self, upload_id: &str, number: i32) -> PathBuf {
        self.internal(format!("{}{number}", md5_prefix(upload_id)))
    }

    fn object_path(&self, bucket: &str, key: &str) -> S3Result<PathBuf> {
        let relative = Path::new(bucket).join(key);
        // No key may name a file outside its bucket.
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(s3_error!(InvalidArgument, "the key leaves its bucket"));
        }
        Ok(self.root.join(relative))
    }

    fn object_file(&self, kind: &str, bucket: &str, key: &str) -> PathBuf {
        let (bucket, key) = (URL_SAFE_NO_PAD.encode(bucket), URL_SAFE_NO_PAD.encode(key));
        self.internal(format!(".bucket-{bucket}.object-{key}{kind}"))
    }

    /// Every part of `upload_id` and the MD5 kept beside each.
    async fn remove_parts(&self, upload_id: &str) -> S3Result<()> {
        let prefixes = [format!(".upload_id-{upload_id}.part-"), md5_prefix(upload_id)];
        let mut entries = tokio::fs::read_dir(&self.root).await.map_err(io_error)?;
        while let Some(entry) = entries.next_entry().await.map_err(io_error)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|prefix| name.starts_with(prefix)) {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
        Ok(())
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

fn md5_prefix(upload_id: &str) -> String {
    format!(".md5.upload_id-{upload_id}.part-")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(error: std::io::Error) -> s3s::S3Error {
    s3_error!(error, InternalError)
}

/// Joins `parts` into `target` in order, in the kernel.
fn join_parts(parts: &[PathBuf], target: &Path) -> std::io::Result<()> {
    let mut out = std::fs::File::create(target)?;
    for part in parts {
        std::io::copy(&mut std::fs::File::open(part)?, &mut out)?;
    }
    Ok(())
}

/// Every call goes to s3s-fs but the three below. Written in the shape `async_trait`
/// gives the trait's methods, since it cannot see into a macro's output.
macro_rules! delegate {
    ($($name:ident: $input:ident => $output:ident;)*) => {$(
        fn $name<'life0, 'async_trait>(
            &'life0 self,
            req: S3Request<dto::$input>,
        ) -> std::pin::Pin<Box<dyn Future<Output = S3Result<S3Response<dto::$output>>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.$name(req)
        }
    )*};
}

#[async_trait::async_trait]
impl S3 for Server {
    delegate! {
        create_bucket: CreateBucketInput => CreateBucketOutput;
        copy_object: CopyObjectInput => CopyObjectOutput;
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        delete_object: DeleteObjectInput => DeleteObjectOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        get_object: GetObjectInput => GetObjectOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        put_object: PutObjectInput => PutObjectOutput;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
        list_parts: ListPartsInput => ListPartsOutput;
        list_multipart_uploads: ListMultipartUploadsInput => ListMultipartUploadsOutput;
    }

    /// s3s-fs removes the parts; the MD5s kept beside them go too.
    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        let answer = self.inner.abort_multipart_upload(req).await?;
        self.remove_parts(&upload_id).await?;
        Ok(answer)
    }

    /// s3s-fs stores the part and answers its MD5 as the ETag; the MD5 is kept beside the
    /// part for the completion.
    async fn upload_part(&self, req: S3Request<dto::UploadPartInput>) -> S3Result<S3Response<dto::UploadPartOutput>> {
        let (upload_id, number) = (req.input.upload_id.clone(), req.input.part_number);
        let answer = self.inner.upload_part(req).await?;
        let md5 = answer.output.e_tag.as_ref().map(|tag| tag.value().to_owned()).unwrap_or_default();
        tokio::fs::write(self.part_md5_path(&upload_id, number), md5).await.map_err(io_error)?;
        Ok(answer)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        let input = &req.input;
        // Conditional completion is left to s3s-fs as it is.
        if input.if_match.is_some() || input.if_none_match.is_some() {
            return self.inner.complete_multipart_upload(req).await;
        }
        let upload_id = &input.upload_id;
        uuid_only(upload_id)?;
        self.began_by(upload_id, req.credentials.as_ref()).await?;
        let listed = input.multipart_upload.as_ref().and_then(|m| m.parts.as_deref()).unwrap_or_default();
        if listed.is_empty() {
            return Err(s3_error!(InvalidPart, "You must specify at least one part"));
        }
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
            files.push(file);
        }

        let object = self.object_path(&input.bucket, &input.key)?;
        if let Some(folder) = object.parent() {
            tokio::fs::create_dir_all(folder).await.map_err(io_error)?;
        }
        // Written beside the root's other temporary files (s3s-fs clears them at start) and
        // renamed into place: a reader sees the old object or the whole new one.
        // Named for this completion alone, so a retried completion racing it cannot write
        // into the same file.
        static COMPLETIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nth = COMPLETIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let staging = self.internal(format!(".tmp.complete-{upload_id}-{nth}.internal.part"));
        let (parts, target) = (files.clone(), staging.clone());
        let joined = tokio::task::spawn_blocking(move || join_parts(&parts, &target))
            .await
            .map_err(|e| s3_error!(e, InternalError))?;
        if let Err(error) = joined {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(io_error(error));
        }
        tokio::fs::rename(&staging, &object).await.map_err(io_error)?;

        let e_tag = format!("{}-{}", hex(&Md5::digest(&md5s)), listed.len());
        let info = serde_json::json!({ "e_tag": e_tag });
        let info_path = self.object_file(".internal.json", &input.bucket, &input.key);
        tokio::fs::write(&info_path, info.to_string()).await.map_err(io_error)?;
        // The attributes given at creation (content type) become the object's.
        let attributes = self.object_file(&format!(".upload-{upload_id}.metadata.json"), &input.bucket, &input.key);
        if tokio::fs::metadata(&attributes).await.is_ok() {
            let to = self.object_file(".metadata.json", &input.bucket, &input.key);
            tokio::fs::rename(&attributes, &to).await.map_err(io_error)?;
        }
        // Parts the completion did not list go too, as in S3.
        self.remove_parts(upload_id).await?;
        let _ = tokio::fs::remove_file(self.internal(format!(".upload-{upload_id}.json"))).await;

        Ok(S3Response::new(dto::CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(e_tag)),
            ..Default::default()
        }))
    }
}

/// s3s-fs's upload ids are UUIDs; anything else could name another file.
fn uuid_only(upload_id: &str) -> S3Result<()> {
    let uuid_like = upload_id.len() == 36 && upload_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if uuid_like { Ok(()) } else { Err(s3_error!(NoSuchUpload)) }
}
