//! The S3 store, through aws-sdk-s3: any S3-compatible server (AWS, MinIO, s3s-fs…),
//! with a custom endpoint, path-style addressing, static or default credentials,
//! multipart upload for large files (parts sent concurrently) and the SDK's retries
//! with backoff.

use std::path::Path;

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    presigning::PresigningConfig,
    primitives::{ByteStream, Length},
    types::{CompletedMultipartUpload, CompletedPart},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    ObjectMeta, StorageError, keys,
    multipart::{Part, PendingUpload},
};

/// Files larger than this go up in parts of this size.
const PART_SIZE: usize = 16 * 1024 * 1024;

/// Parts uploaded at once, each streamed from its range of the file.
const PARTS_IN_FLIGHT: usize = 4;

/// The outcome of one part's upload task.
fn joined(done: Option<Result<Result<Part, StorageError>, tokio::task::JoinError>>) -> Result<Part, StorageError> {
    match done {
        Some(Ok(part)) => part,
        Some(Err(error)) => Err(StorageError::S3(format!("part upload task: {error}"))),
        None => Err(StorageError::S3("no part upload was running".into())),
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    /// Empty for AWS itself; `http://host:port` for MinIO and the like.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Empty to use the default credential chain (environment, profile, instance role).
    pub access_key: String,
    pub secret_key: SecretString,
    pub path_style: bool,
    pub max_attempts: u32,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: "ottr".into(),
            access_key: String::new(),
            secret_key: SecretString::from(""),
            path_style: true,
            max_attempts: 5,
        }
    }
}

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

fn s3_error(error: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse; the source chain says what the server answered.
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StorageError::S3(text)
}

impl S3Store {
    pub async fn connect(settings: &S3Settings) -> Self {
        let mut builder = if settings.access_key.is_empty() {
            let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
            aws_sdk_s3::config::Builder::from(&shared)
        } else {
            aws_sdk_s3::config::Builder::new().behavior_version(BehaviorVersion::latest()).credentials_provider(
                Credentials::new(
                    &settings.access_key,
                    settings.secret_key.expose_secret(),
                    None,
                    None,
                    "ottr-settings",
                ),
            )
        };
        builder = builder
            .region(Region::new(settings.region.clone()))
            .force_path_style(settings.path_style)
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
        if !settings.endpoint.is_empty() {
            builder = builder.endpoint_url(&settings.endpoint);
        }
        Self { client: Client::from_conf(builder.build()), bucket: settings.bucket.clone() }
    }

    /// Creates the bucket if it does not exist (for the embedded and test set-ups).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        self.client.create_bucket().bucket(&self.bucket).send().await.map_err(s3_error)?;
        Ok(())
    }

    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let size = tokio::fs::metadata(path).await?.len();
        if size as usize <= PART_SIZE {
            let body = ByteStream::from_path(path).await.map_err(s3_error)?;
            return self.put(key, body).await;
        }
        self.put_multipart(key, path).await
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.put(key, ByteStream::from(bytes)).await
    }

    async fn put(&self, key: &str, body: ByteStream) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(keys::content_type(key))
            .body(body)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    /// Streams from disk: memory does not grow with the file's size.
    async fn put_multipart(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let upload_id = self.begin_upload(key).await?;
        let result = self.upload_parts(key, path, &upload_id).await;
        if result.is_err() {
            // Parts of an abandoned upload cost storage until aborted.
            let _ = self.abort_upload(key, &upload_id).await;
        }
        result
    }

    async fn upload_parts(&self, key: &str, path: &Path, upload_id: &str) -> Result<(), StorageError> {
        let size = tokio::fs::metadata(path).await?.len();
        let mut in_flight = tokio::task::JoinSet::new();
        let mut parts = Vec::new();
        for (index, offset) in (0..size).step_by(PART_SIZE).enumerate() {
            let number = index as i32 + 1;
            if in_flight.len() == PARTS_IN_FLIGHT {
                parts.push(joined(in_flight.join_next().await)?);
            }
            // Each part streams from its range of the file: nothing is held in memory, and
            // the SDK checksums it as it goes instead of hashing a buffer first.
            let length = (size - offset).min(PART_SIZE as u64);
            let body = ByteStream::read_from()
                .path(path)
                .offset(offset)
                .length(Length::Exact(length))
                .build()
                .await
                .map_err(s3_error)?;
            let request = self.part_request(key, upload_id, number, body);
            in_flight.spawn(async move {
                let part = request.send().await.map_err(s3_error)?;
                Ok(Part { number, size: length, etag: part.e_tag().unwrap_or_default().to_owned() })
            });
        }
        while let Some(done) = in_flight.join_next().await {
            parts.push(joined(Some(done))?);
        }
        parts.sort_by_key(|part| part.number);
        self.complete_upload(key, upload_id, &parts).await
    }

    fn part_request(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: ByteStream,
    ) -> aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder {
        self.client.upload_part().bucket(&self.bucket).key(key).upload_id(upload_id).part_number(number).body(body)
    }

    /// Starts a multipart upload of `key`; returns its upload id.
    pub async fn begin_upload(&self, key: &str) -> Result<String, StorageError> {
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(keys::content_type(key))
            .send()
            .await
            .map_err(s3_error)?;
        upload.upload_id().map(str::to_owned).ok_or_else(|| StorageError::S3("no upload id in the answer".into()))
    }

    /// Sends one part from memory (a resumable upload's buffered bytes). Its payload is
    /// not signed, as the SDK already does for parts streamed from a file: the part's
    /// CRC32 checksum, which the SDK still sends and the server checks, guards the bytes,
    /// and neither side spends a SHA-256 pass over every uploaded byte (about a tenth of
    /// the CPU of an upload through ottr, measured with `perf` in `bench/upload`).
    pub async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        bytes: bytes::Bytes,
    ) -> Result<Part, StorageError> {
        let size = bytes.len() as u64;
        self.send_part(key, upload_id, number, size, ByteStream::from(bytes)).await
    }

    /// Sends one part as its bytes arrive: not signed either, and not retried by the SDK
    /// (the bytes are gone once sent); the client resends from the offset it is told.
    pub async fn put_part_fed(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        feed: crate::feed::PartFeed,
    ) -> Result<Part, StorageError> {
        let size = http_body::Body::size_hint(&feed).exact().unwrap_or_default();
        self.send_part(key, upload_id, number, size, ByteStream::from_body_1_x(feed)).await
    }

    /// One part of `size` bytes, its payload unsigned (see [`Self::put_part`]).
    async fn send_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        size: u64,
        body: ByteStream,
    ) -> Result<Part, StorageError> {
        let answer = self
            .part_request(key, upload_id, number, body)
            .content_length(size as i64)
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(s3_error)?;
        Ok(Part { number, size, etag: answer.e_tag().unwrap_or_default().to_owned() })
    }

    pub async fn complete_upload(&self, key: &str, upload_id: &str, parts: &[Part]) -> Result<(), StorageError> {
        let parts = parts
            .iter()
            .map(|part| CompletedPart::builder().part_number(part.number).e_tag(&part.etag).build())
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        match self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(upload_id).send().await {
            Ok(_) => Ok(()),
            // Already gone (completed, aborted, or expired by a bucket lifecycle rule).
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_upload()) => Ok(()),
            Err(error) => Err(s3_error(error)),
        }
    }

    /// Multipart uploads under `prefix` that were neither completed nor aborted.
    pub async fn pending_uploads(&self, prefix: &str) -> Result<Vec<PendingUpload>, StorageError> {
        let mut found = Vec::new();
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|error| {
                    let code = error.as_service_error().and_then(|e| e.meta().code()).unwrap_or_default();
                    if code == "NotImplemented" {
                        StorageError::Unsupported("ListMultipartUploads")
                    } else {
                        s3_error(error)
                    }
                })?;
            for upload in page.uploads() {
                if let (Some(key), Some(upload_id)) = (upload.key(), upload.upload_id()) {
                    let started = upload.initiated().and_then(|at| std::time::SystemTime::try_from(*at).ok());
                    found.push(PendingUpload { key: key.to_owned(), upload_id: upload_id.to_owned(), started });
                }
            }
            if !page.is_truncated().unwrap_or(false) {
                return Ok(found);
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                return Ok(found);
            }
        }
    }

    /// An UploadPart URL for part `number` that works for `ttl` without credentials. Its
    /// payload is unsigned, as every presigned URL's is; the store still checks the length.
    pub async fn presigned_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        ttl: std::time::Duration,
    ) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(ttl).map_err(s3_error)?;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .presigned(config)
            .await
            .map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }

    /// The parts S3 holds for an upload, numbered above `after` (ListParts, page by page).
    pub async fn stored_parts(&self, key: &str, upload_id: &str, after: i32) -> Result<Vec<Part>, StorageError> {
        let mut found = Vec::new();
        let mut marker = Some(after.to_string());
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(s3_error)?;
            for part in page.parts() {
                let (Some(number), Some(size)) = (part.part_number(), part.size()) else { continue };
                let etag = part.e_tag().unwrap_or_default().to_owned();
                found.push(Part { number, size: size.max(0) as u64, etag });
            }
            if !page.is_truncated().unwrap_or(false) {
                return Ok(found);
            }
            marker = page.next_part_number_marker().map(str::to_owned);
            if marker.is_none() {
                return Ok(found);
            }
        }
    }

    /// A GET URL for `key` that works for `ttl` without credentials.
    pub async fn presigned_get(&self, key: &str, ttl: std::time::Duration) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(ttl).map_err(s3_error)?;
        let request =
            self.client.get_object().bucket(&self.bucket).key(key).presigned(config).await.map_err(s3_error)?;
        Ok(request.uri().to_owned())
    }

    async fn get(&self, key: &str, range: Option<String>) -> Result<ByteStream, StorageError> {
        match self.client.get_object().bucket(&self.bucket).key(key).set_range(range).send().await {
            Ok(output) => Ok(output.body),
            Err(error) => {
                let missing = error.as_service_error().is_some_and(|e| e.is_no_such_key());
                Err(if missing { StorageError::NotFound(key.to_owned()) } else { s3_error(error) })
            }
        }
    }

    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let body = self.get(key, None).await?;
        Ok(body.collect().await.map_err(s3_error)?.into_bytes().to_vec())
    }

    pub async fn get_range(&self, key: &str, start: u64, end: Option<u64>) -> Result<Vec<u8>, StorageError> {
        let range = format!("bytes={start}-{}", end.map(|e| e.to_string()).unwrap_or_default());
        let body = self.get(key, Some(range)).await?;
        Ok(body.collect().await.map_err(s3_error)?.into_bytes().to_vec())
    }

    pub async fn download(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let mut body = self.get(key, None).await?.into_async_read();
        let mut file = tokio::fs::File::create(path).await?;
        tokio::io::copy(&mut body, &mut file).await?;
        Ok(())
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(ObjectMeta {
                size: head.content_length().unwrap_or(0) as u64,
                content_type: head.content_type().unwrap_or("application/octet-stream").to_owned(),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(s3_error(error)),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut found = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(s3_error)?;
            found.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        Ok(found)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        Ok(())
    }
}
