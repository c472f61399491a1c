//! The gRPC handlers: `CatalogService` (what there is to watch) and `LibraryService`
//! (what each profile did with it), over one shared state.

mod catalog;
mod library;

use ottr_proto::catalog::v1 as pb;
use ottr_runtime::token::{self, Caller};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    AnalyticsSettings, CatalogError, SearchSettings,
    cache::Cache,
    domain::{Scope, Visibility, maturity, parse_id},
    store::titles,
};

pub(crate) use catalog::CatalogApi;
pub(crate) use library::LibraryApi;

pub(crate) struct State {
    pub pool: PgPool,
    pub cache: Cache,
    pub search: SearchSettings,
    pub analytics: AnalyticsSettings,
}

fn caller<T>(request: &tonic::Request<T>) -> Option<Caller> {
    token::caller(request).cloned()
}

impl State {
    /// A title by id or slug through the cache, whatever its visibility.
    async fn title(&self, id_or_slug: &str) -> Result<Option<pb::Title>, CatalogError> {
        let (key, by_id) = match Uuid::parse_str(id_or_slug) {
            Ok(id) => (self.cache.title_key(&id.to_string()), Some(id)),
            Err(_) => (self.cache.slug_key(id_or_slug), None),
        };
        if let Some(title) = self.cache.get::<pb::Title>(&key).await {
            return Ok(Some(title));
        }
        let title = match by_id {
            Some(id) => titles::get(&self.pool, id).await?,
            None => titles::get_by_slug(&self.pool, id_or_slug).await?,
        };
        if let Some(title) = &title {
            self.cache.put(&key, title).await;
        }
        Ok(title)
    }

    /// A title the caller may open; drafts are "not found" to those who may not see them.
    async fn visible_title(&self, id_or_slug: &str, scope: Scope) -> Result<pb::Title, CatalogError> {
        self.title(id_or_slug)
            .await?
            .filter(|t| Visibility::from_proto(t.visibility).is_some_and(|v| scope.may_open(v)))
            .ok_or(CatalogError::NotFound("title"))
    }

    /// Keys to drop when the title (and so its series tree and slug) changed.
    fn title_keys(&self, title: &pb::Title, old_slug: Option<&str>) -> Vec<String> {
        let slug = title.fields.as_ref().map(|f| f.slug.as_str());
        let mut keys = self.removed_keys(&title.id, slug);
        keys.extend(old_slug.map(|s| self.cache.slug_key(s)));
        keys
    }

    /// Keys to drop when a title changed or went, knowing only its id and slug.
    fn removed_keys(&self, id: &str, slug: Option<&str>) -> Vec<String> {
        let mut keys = vec![self.cache.title_key(id), self.cache.series_key(id)];
        keys.extend(slug.map(|s| self.cache.slug_key(s)));
        keys
    }

    /// The profile, when it belongs to the caller's account, with its maturity limit.
    async fn own_profile_limit(&self, caller: &Caller, raw: &str) -> Result<(Uuid, Option<i32>), CatalogError> {
        let profile_id = parse_id("profile_id", raw)?;
        Ok((profile_id, crate::store::library::profile_limit(&self.pool, caller.user_id, profile_id).await?))
    }

    /// The maturity limit a request's optional `profile_id` sets: none without one.
    async fn limit_of(&self, caller: Option<&Caller>, raw: &str) -> Result<Option<i32>, CatalogError> {
        if raw.is_empty() {
            return Ok(None);
        }
        let caller = caller.ok_or(CatalogError::Unauthenticated)?;
        Ok(self.own_profile_limit(caller, raw).await?.1)
    }

    /// A title the caller may open, within the profile's limit; one above it is "not found".
    async fn title_for_profile(
        &self,
        id_or_slug: &str,
        scope: Scope,
        limit: Option<i32>,
    ) -> Result<pb::Title, CatalogError> {
        let title = self.visible_title(id_or_slug, scope).await?;
        let rating = title.fields.as_ref().map_or("", |f| f.maturity_rating.as_str());
        if maturity::allows(limit, rating) { Ok(title) } else { Err(CatalogError::NotFound("title")) }
    }
}
