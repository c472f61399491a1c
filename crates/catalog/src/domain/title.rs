//! Titles: their kind, publish state and editable fields.

use ottr_proto::catalog::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{parse_optional_id, text};
use crate::CatalogError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Movie,
    Series,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Movie => "movie",
            Kind::Series => "series",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "movie" => Some(Kind::Movie),
            "series" => Some(Kind::Series),
            _ => None,
        }
    }

    /// `None` for unspecified.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Kind::try_from(value).ok()? {
            pb::Kind::Movie => Some(Kind::Movie),
            pb::Kind::Series => Some(Kind::Series),
            pb::Kind::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::Kind {
        match self {
            Kind::Movie => pb::Kind::Movie,
            Kind::Series => pb::Kind::Series,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Draft,
    Published,
    Unlisted,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Draft => "draft",
            Visibility::Published => "published",
            Visibility::Unlisted => "unlisted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "draft" => Some(Visibility::Draft),
            "published" => Some(Visibility::Published),
            "unlisted" => Some(Visibility::Unlisted),
            _ => None,
        }
    }

    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Visibility::try_from(value).ok()? {
            pb::Visibility::Draft => Some(Visibility::Draft),
            pb::Visibility::Published => Some(Visibility::Published),
            pb::Visibility::Unlisted => Some(Visibility::Unlisted),
            pb::Visibility::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::Visibility {
        match self {
            Visibility::Draft => pb::Visibility::Draft,
            Visibility::Published => pb::Visibility::Published,
            Visibility::Unlisted => pb::Visibility::Unlisted,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    pub role: String,
}

/// The editable fields of a title, validated.
#[derive(Clone, Debug)]
pub struct TitleFields {
    pub kind: Kind,
    pub slug: String,
    pub title: String,
    pub synopsis: String,
    pub release_year: Option<i32>,
    pub runtime_secs: Option<i32>,
    pub maturity_rating: String,
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub credits: Vec<Credit>,
    pub poster_url: String,
    pub backdrop_url: String,
    pub asset_id: Option<Uuid>,
    pub downloadable: bool,
}

impl TitleFields {
    pub fn credit_names(&self) -> String {
        self.credits.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" ")
    }
}

fn slug(raw: &str) -> Result<String, CatalogError> {
    let ok = (1..=100).contains(&raw.len())
        && raw
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !ok {
        return Err(CatalogError::invalid(
            "fields.slug",
            "must be 1 to 100 lower-case letters, digits and single dashes, like the-third-man",
        ));
    }
    Ok(raw.to_owned())
}

/// Lower-cased, trimmed, without repeats, at most `max` words of at most 40 characters.
fn labels(field: &'static str, raw: Vec<String>, max: usize) -> Result<Vec<String>, CatalogError> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for label in raw {
        let label = text(field, &label, 40, true)?.to_lowercase();
        if !out.contains(&label) {
            out.push(label);
        }
    }
    if out.len() > max {
        return Err(CatalogError::invalid(field, format!("at most {max}")));
    }
    Ok(out)
}

fn url(field: &'static str, raw: &str) -> Result<String, CatalogError> {
    let raw = text(field, raw, 2000, false)?;
    let allowed = raw.is_empty() || raw.starts_with("https://") || raw.starts_with("http://") || raw.starts_with('/');
    if !allowed {
        return Err(CatalogError::invalid(field, "must be an http(s) URL or a path"));
    }
    Ok(raw)
}

fn positive(field: &'static str, value: u32, max: u32) -> Result<Option<i32>, CatalogError> {
    match value {
        0 => Ok(None),
        v if v <= max => Ok(Some(v as i32)),
        _ => Err(CatalogError::invalid(field, format!("must be at most {max}"))),
    }
}

impl TryFrom<pb::TitleFields> for TitleFields {
    type Error = CatalogError;

    fn try_from(raw: pb::TitleFields) -> Result<Self, CatalogError> {
        let kind = Kind::from_proto(raw.kind)
            .ok_or_else(|| CatalogError::invalid("fields.kind", "must be movie or series"))?;
        let release_year = positive("fields.release_year", raw.release_year, 2100)?;
        if release_year.is_some_and(|y| y < 1870) {
            return Err(CatalogError::invalid("fields.release_year", "must be 1870 or later"));
        }
        let asset_id = parse_optional_id("fields.asset_id", &raw.asset_id)?;
        if kind == Kind::Series && asset_id.is_some() {
            return Err(CatalogError::invalid("fields.asset_id", "a series plays through its episodes"));
        }
        let credits = raw
            .credits
            .into_iter()
            .map(|c| {
                Ok(Credit {
                    name: text("fields.credits.name", &c.name, 200, true)?,
                    role: text("fields.credits.role", &c.role, 60, false)?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        if credits.len() > 100 {
            return Err(CatalogError::invalid("fields.credits", "at most 100"));
        }
        let artwork = raw.artwork.unwrap_or_default();
        Ok(Self {
            kind,
            slug: slug(&raw.slug)?,
            title: text("fields.title", &raw.title, 200, true)?,
            synopsis: text("fields.synopsis", &raw.synopsis, 5000, false)?,
            release_year,
            runtime_secs: positive("fields.runtime_secs", raw.runtime_secs, 48 * 3600)?,
            maturity_rating: text("fields.maturity_rating", &raw.maturity_rating, 16, false)?,
            genres: labels("fields.genres", raw.genres, 10)?,
            tags: labels("fields.tags", raw.tags, 30)?,
            credits,
            poster_url: url("fields.artwork.poster_url", &artwork.poster_url)?,
            backdrop_url: url("fields.artwork.backdrop_url", &artwork.backdrop_url)?,
            asset_id,
            downloadable: raw.downloadable,
        })
    }
}

impl From<TitleFields> for pb::TitleFields {
    fn from(f: TitleFields) -> Self {
        Self {
            kind: f.kind.to_proto() as i32,
            slug: f.slug,
            title: f.title,
            synopsis: f.synopsis,
            release_year: f.release_year.unwrap_or(0) as u32,
            runtime_secs: f.runtime_secs.unwrap_or(0) as u32,
            maturity_rating: f.maturity_rating,
            genres: f.genres,
            tags: f.tags,
            credits: f.credits.into_iter().map(|c| pb::Credit { name: c.name, role: c.role }).collect(),
            artwork: Some(pb::Artwork { poster_url: f.poster_url, backdrop_url: f.backdrop_url }),
            asset_id: f.asset_id.map(|id| id.to_string()).unwrap_or_default(),
            downloadable: f.downloadable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> pb::TitleFields {
        pb::TitleFields {
            kind: pb::Kind::Movie as i32,
            slug: "the-third-man".into(),
            title: "The Third Man".into(),
            ..Default::default()
        }
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_dashes() {
        for good in ["a", "the-third-man", "2001-a-space-odyssey"] {
            assert!(slug(good).is_ok(), "{good}");
        }
        for bad in ["", "The-Third-Man", "the--third", "-x", "x-", "a b", "é"] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_bad_field_is_named_in_its_error() {
        type Case = (fn(&mut pb::TitleFields), &'static str);
        let cases: Vec<Case> = vec![
            (|f| f.kind = 0, "fields.kind"),
            (|f| f.title = "  ".into(), "fields.title"),
            (|f| f.release_year = 1200, "fields.release_year"),
            (|f| f.asset_id = "nope".into(), "fields.asset_id"),
            (|f| f.genres = vec!["x".repeat(41)], "fields.genres"),
            (
                |f| f.artwork = Some(pb::Artwork { poster_url: "javascript:alert(1)".into(), ..Default::default() }),
                "fields.artwork.poster_url",
            ),
        ];
        for (break_it, field) in cases {
            let mut raw = fields();
            break_it(&mut raw);
            match TitleFields::try_from(raw) {
                Err(CatalogError::Invalid { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn genres_are_normalised_and_deduplicated() {
        let mut raw = fields();
        raw.genres = vec![" Drama".into(), "drama".into(), "Noir".into()];
        assert_eq!(TitleFields::try_from(raw).unwrap().genres, vec!["drama", "noir"]);
    }
}
