//! The editable fields of an episode.

use ottr_proto::catalog::v1 as pb;
use uuid::Uuid;

use super::{parse_optional_id, text};
use crate::CatalogError;

#[derive(Clone, Debug)]
pub struct EpisodeFields {
    pub number: i32,
    pub title: String,
    pub synopsis: String,
    pub runtime_secs: Option<i32>,
    pub asset_id: Option<Uuid>,
}

impl TryFrom<pb::EpisodeFields> for EpisodeFields {
    type Error = CatalogError;

    fn try_from(raw: pb::EpisodeFields) -> Result<Self, CatalogError> {
        if !(1..=10_000).contains(&raw.number) {
            return Err(CatalogError::invalid("fields.number", "must be 1 to 10000"));
        }
        if raw.runtime_secs > 48 * 3600 {
            return Err(CatalogError::invalid("fields.runtime_secs", "must be at most 48 hours"));
        }
        Ok(Self {
            number: raw.number as i32,
            title: text("fields.title", &raw.title, 200, true)?,
            synopsis: text("fields.synopsis", &raw.synopsis, 5000, false)?,
            runtime_secs: (raw.runtime_secs > 0).then_some(raw.runtime_secs as i32),
            asset_id: parse_optional_id("fields.asset_id", &raw.asset_id)?,
        })
    }
}

impl From<EpisodeFields> for pb::EpisodeFields {
    fn from(f: EpisodeFields) -> Self {
        Self {
            number: f.number as u32,
            title: f.title,
            synopsis: f.synopsis,
            runtime_secs: f.runtime_secs.unwrap_or(0) as u32,
            asset_id: f.asset_id.map(|id| id.to_string()).unwrap_or_default(),
        }
    }
}
