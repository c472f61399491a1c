//! `--title NAME`: a draft movie title made before the bytes go (so a name or permission
//! the catalog refuses fails the command before a long upload, not after), and the asset
//! attached once the edge names it. The catalog takes any asset id in a title's fields
//! without looking it up, but the id exists only once the upload completes, so attaching
//! is a second step: the title's current fields read back and written again with the
//! asset, so edits made in the studio meanwhile are kept.

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::{
    api::{ApiError, Session, success},
    state::TitleRef,
};

/// Slugs tried after the plain one is taken: `name-2` … `name-20`.
const SLUG_SUFFIXES: std::ops::RangeInclusive<u32> = 2..=20;
/// The catalog takes at most 100; room is left for a suffix.
const SLUG_MAX: usize = 90;

/// The fields `PUT /api/v1/titles/{id}` replaces, as `GET` shows them.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct TitleFields {
    id: String,
    kind: String,
    slug: String,
    title: String,
    synopsis: String,
    release_year: u32,
    runtime_secs: u32,
    maturity_rating: String,
    genres: Vec<String>,
    tags: Vec<String>,
    poster_url: String,
    backdrop_url: String,
    asset_id: String,
}

/// The catalog's slug for a name: lower-case ASCII letters and digits (common accented
/// Latin letters lose their accent), anything else a single dash between words
/// (`"Night of the Hunter (1955)"` → `night-of-the-hunter-1955`).
pub(crate) fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if let Some(plain) = unaccented(c) {
            slug.push_str(plain);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(SLUG_MAX);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "untitled".to_owned() } else { slug.to_owned() }
}

fn unaccented(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'æ' => "ae",
        'ç' => "c",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'œ' => "oe",
        'ß' => "ss",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        _ => return None,
    })
}

/// Makes a draft movie titled `name`, under its slug or the first free suffixed one.
pub(crate) async fn create_draft(session: &Session, name: &str) -> anyhow::Result<TitleRef> {
    let base = slug_of(name);
    let candidates = std::iter::once(base.clone()).chain(SLUG_SUFFIXES.map(|n| format!("{base}-{n}")));
    for slug in candidates {
        let fields = TitleFields { kind: "movie".into(), slug: slug.clone(), title: name.into(), ..Default::default() };
        match post(session, &fields).await {
            Ok(made) => return Ok(TitleRef { id: made.id, name: name.to_owned(), slug: made.slug }),
            Err(error) if slug_taken(&error) => continue,
            Err(error) => return Err(error).with_context(|| format!("creating the title \"{name}\"")),
        }
    }
    bail!("the slugs {base} to {base}-{} are all taken; make the title in the studio", SLUG_SUFFIXES.end())
}

fn slug_taken(error: &anyhow::Error) -> bool {
    error.downcast_ref::<ApiError>().is_some_and(|e| e.status == StatusCode::CONFLICT && e.code == "slug_taken")
}

async fn post(session: &Session, fields: &TitleFields) -> anyhow::Result<TitleFields> {
    let url = session.edge().url("api/v1/titles")?;
    let response = session.send(|http| Ok(http.post(url.clone()).json(fields))).await?;
    Ok(success(response).await?.json().await?)
}

/// Sets the title's asset, keeping its other fields as they are now.
pub(crate) async fn attach(session: &Session, title: &TitleRef, asset_id: &str) -> anyhow::Result<()> {
    let url = session.edge().url(&format!("api/v1/titles/{}", title.id))?;
    let attached = async {
        let response = session.send(|http| Ok(http.get(url.clone()))).await?;
        let mut fields: TitleFields = success(response).await?.json().await?;
        asset_id.clone_into(&mut fields.asset_id);
        let response = session.send(|http| Ok(http.put(url.clone()).json(&fields))).await?;
        success(response).await?;
        anyhow::Ok(())
    };
    attached.await.with_context(|| format!("attaching asset {asset_id} to the title \"{}\" ({})", title.name, title.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_dashes() {
        for (name, slug) in [
            ("Night of the Hunter (1955)", "night-of-the-hunter-1955"),
            ("  The Third   Man ", "the-third-man"),
            ("Amélie", "amelie"),
            ("Das Boot — Die Ära", "das-boot-die-ara"),
            ("東京物語", "untitled"),
            ("--", "untitled"),
        ] {
            assert_eq!(slug_of(name), slug, "{name}");
        }
        let long = slug_of(&"word ".repeat(40));
        assert!(long.len() <= SLUG_MAX && !long.ends_with('-'), "{long}");
    }
}
