//! ottr's media service (`ottr.media.v1`): object storage, upload intake with ffprobe
//! validation, the durable transcode queue, the single-decode HLS ladder with segments
//! uploaded as they are made, poster and storyboard, the MP4 download, streaming job
//! progress, and the webhooks that tell other systems what happened.

pub mod config;
mod convert;
pub mod error;
pub mod events;
pub mod ffmpeg;
mod grpc;
mod intake;
pub mod pipeline;
pub mod probe;
pub mod process;
mod publish;
mod removal;
pub mod startup;
pub mod store;
pub mod subtitles;
pub mod transcode;
pub mod uploads;
pub mod webhooks;
pub mod worker;

pub use config::MediaSettings;
pub use error::MediaError;
pub use startup::{Application, Dependencies};
