//! s3s-fs with multipart uploads closer to what AWS and MinIO do. s3s-fs completes an
//! upload by reading every part back in user space, hashing it with MD5 a second time and
//! writing it out again: for a 2 GiB upload that is more server CPU and disk than the
//! upload itself (measured with `perf` in `bench/upload`), on the same two cores the
//! services under test run on. AWS, MinIO, Ceph and Garage complete without touching the
//! bytes. Here each part's MD5 is kept from when the part arrived, the completion checks
//! what S3 checks ([`super::completion`]) and leaves the parts where they are, listed by a
//! manifest ([`super::assembled`]) that reads serve the object from. Everything else is
//! s3s-fs as it is.

use std::path::{Component, Path, PathBuf};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use s3s::{
    S3, S3Request, S3Response, S3Result,
    dto::{self, StreamingBlob},
    s3_error,
};
use s3s_fs::FileSystem;

use super::assembled::Manifest;

pub(super) struct Server {
    pub(super) inner: FileSystem,
    pub(super) root: PathBuf,
}

impl Server {
    pub(super) fn new(root: &Path) -> anyhow::Result<Self> {
        let inner = FileSystem::new(root).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        // As s3s-fs resolves it, so both name the same files.
        let root = std::env::current_dir()?.join(root).canonicalize()?;
        Ok(Self { inner, root })
    }

    /// A file of s3s-fs's own in the root (its names start with a dot).
    pub(super) fn internal(&self, name: String) -> PathBuf {
        self.root.join(name)
    }

    /// Named apart from s3s-fs's own part files (`.upload_id-<id>.part-<n>`), which its
    /// ListParts and the tests read.
    pub(super) fn part_md5_path(&self, upload_id: &str, number: i32) -> PathBuf {
        self.internal(format!("{}{number}", md5_prefix(upload_id)))
    }

    pub(super) fn object_path(&self, bucket: &str, key: &str) -> S3Result<PathBuf> {
        let relative = Path::new(bucket).join(key);
        // No key may name a file outside its bucket.
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(s3_error!(InvalidArgument, "the key leaves its bucket"));
        }
        Ok(self.root.join(relative))
    }

    pub(super) fn object_file(&self, kind: &str, bucket: &str, key: &str) -> PathBuf {
        let (bucket, key) = (URL_SAFE_NO_PAD.encode(bucket), URL_SAFE_NO_PAD.encode(key));
        self.internal(format!(".bucket-{bucket}.object-{key}{kind}"))
    }

    /// The manifest of the object at `bucket`/`key` when it is an assembled one.
    pub(super) async fn assembled(&self, bucket: &str, key: &str) -> S3Result<Option<Manifest>> {
        Ok(Manifest::of(&self.root, &self.object_path(bucket, key)?).await)
    }

    /// Every part of `upload_id` and the MD5 kept beside each.
    pub(super) async fn remove_parts(&self, upload_id: &str) -> S3Result<()> {
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

    /// Refuses to copy from an assembled object: s3s-fs would copy its sparse stand-in.
    /// Nothing in ottr copies objects.
    async fn copyable(&self, source: &dto::CopySource) -> S3Result<()> {
        if let dto::CopySource::Bucket { bucket, key, .. } = source
            && self.assembled(bucket, key).await?.is_some()
        {
            return Err(s3_error!(NotImplemented, "copying an object completed from parts"));
        }
        Ok(())
    }

    /// Runs `change` (a PUT or DELETE of `bucket`/`key` by s3s-fs); an assembled object it
    /// replaced or removed takes its parts with it, whatever it answered (s3s-fs puts a
    /// new object in place before it checks a digest).
    async fn replacing<T>(&self, bucket: &str, key: &str, change: impl Future<Output = S3Result<T>>) -> S3Result<T> {
        let before = self.assembled(bucket, key).await?;
        let answer = change.await;
        if let Some(before) = before {
            let now = self.assembled(bucket, key).await?;
            if now.is_none_or(|now| !now.same(&before)) {
                before.remove(&self.root).await;
            }
        }
        answer
    }
}

fn md5_prefix(upload_id: &str) -> String {
    format!(".md5.upload_id-{upload_id}.part-")
}

pub(super) fn io_error(error: std::io::Error) -> s3s::S3Error {
    s3_error!(error, InternalError)
}

/// Every call goes to s3s-fs but those below. Written in the shape `async_trait` gives
/// the trait's methods, since it cannot see into a macro's output.
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
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        list_multipart_uploads: ListMultipartUploadsInput => ListMultipartUploadsOutput;
    }

    /// s3s-fs answers the headers (its stand-in has the object's size, ETag and
    /// metadata); an assembled object's bytes come from its parts.
    async fn get_object(&self, req: S3Request<dto::GetObjectInput>) -> S3Result<S3Response<dto::GetObjectOutput>> {
        let Some(manifest) = self.assembled(&req.input.bucket, &req.input.key).await? else {
            return self.inner.get_object(req).await;
        };
        let span = match &req.input.range {
            Some(range) => range.check(manifest.size)?,
            None => 0..manifest.size,
        };
        let mut answer = self.inner.get_object(req).await?;
        answer.output.body = Some(StreamingBlob::wrap(manifest.read(&self.root, span)));
        Ok(answer)
    }

    async fn put_object(&self, req: S3Request<dto::PutObjectInput>) -> S3Result<S3Response<dto::PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.replacing(&bucket, &key, self.inner.put_object(req)).await
    }

    async fn delete_object(
        &self,
        req: S3Request<dto::DeleteObjectInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.replacing(&bucket, &key, self.inner.delete_object(req)).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<dto::DeleteObjectsInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let mut before = Vec::new();
        for object in &req.input.delete.objects {
            before.extend(self.assembled(&bucket, &object.key).await?);
        }
        let answer = self.inner.delete_objects(req).await;
        for manifest in before {
            manifest.remove(&self.root).await;
        }
        answer
    }

    async fn copy_object(&self, req: S3Request<dto::CopyObjectInput>) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        self.copyable(&req.input.copy_source).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.replacing(&bucket, &key, self.inner.copy_object(req)).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<dto::UploadPartCopyInput>,
    ) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
        self.copyable(&req.input.copy_source).await?;
        self.inner.upload_part_copy(req).await
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

    /// s3s-fs lists each part's number and size; its ETag (the MD5 kept beside it) is added,
    /// as S3 lists it.
    async fn list_parts(&self, req: S3Request<dto::ListPartsInput>) -> S3Result<S3Response<dto::ListPartsOutput>> {
        let upload_id = req.input.upload_id.clone();
        let mut answer = self.inner.list_parts(req).await?;
        for part in answer.output.parts.iter_mut().flatten() {
            let Some(number) = part.part_number else { continue };
            if let Ok(md5) = tokio::fs::read_to_string(self.part_md5_path(&upload_id, number)).await {
                part.e_tag = Some(dto::ETag::Strong(md5));
            }
        }
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
        self.complete(input, req.credentials.as_ref()).await.map(S3Response::new)
    }
}
