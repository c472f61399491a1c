//! Creating, editing, publishing and reading titles, and who may do what.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{bearer, code, movie, spawn_app};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_editor_creates_edits_and_publishes_a_title(pool: PgPool) {
    let app = spawn_app(pool).await;
    let created = app.create(movie("the-third-man", "The Third Man", "Vienna, 1946.")).await;
    assert_eq!(created.visibility, pb::Visibility::Draft as i32, "new titles are drafts");
    assert_eq!(created.published_at, 0);
    assert_eq!(created.fields.as_ref().unwrap().genres, vec!["drama"], "genres are normalised");

    let mut fields = created.fields.clone().unwrap();
    fields.title = "The Third Man (restored)".into();
    fields.credits = vec![pb::Credit { name: "Carol Reed".into(), role: "director".into() }];
    let edited = app
        .catalog
        .clone()
        .update_title(bearer(pb::UpdateTitleRequest { id: created.id.clone(), fields: Some(fields) }, &app.editor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.fields.as_ref().unwrap().title, "The Third Man (restored)");
    assert_eq!(edited.fields.as_ref().unwrap().credits[0].name, "Carol Reed");

    let published = app.set_visibility(&created.id, pb::Visibility::Published).await;
    assert_eq!(published.visibility, pb::Visibility::Published as i32);
    assert!(published.published_at > 0);
    let by_slug = app.get("the-third-man", Some(&app.viewer)).await.unwrap();
    assert_eq!(by_slug.id, created.id);
    assert_eq!(app.get(&created.id, None).await.unwrap().id, created.id, "anonymous callers browse too");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn viewers_see_neither_drafts_nor_may_write(pool: PgPool) {
    let app = spawn_app(pool).await;
    let draft = app.create(movie("draft", "Draft", "")).await;
    for token in [Some(app.viewer.as_str()), None] {
        let hidden = app.get(&draft.id, token).await.unwrap_err();
        assert_eq!(hidden.code(), tonic::Code::NotFound);
        assert_eq!(code(&hidden), "not_found");
    }
    let listed = app.catalog.clone().list_titles(bearer(pb::ListTitlesRequest::default(), &app.viewer)).await.unwrap();
    assert!(listed.into_inner().titles.is_empty());
    let staff = app.catalog.clone().list_titles(bearer(pb::ListTitlesRequest::default(), &app.editor)).await.unwrap();
    assert_eq!(staff.into_inner().titles.len(), 1, "editors see drafts");

    let write = pb::CreateTitleRequest { fields: Some(movie("mine", "Mine", "")) };
    let refused = app.catalog.clone().create_title(bearer(write.clone(), &app.viewer)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert_eq!(code(&refused), "permission_denied");
    let anonymous = app.catalog.clone().create_title(write).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    let publish = pb::SetVisibilityRequest { id: draft.id, visibility: pb::Visibility::Published as i32 };
    let refused = app.catalog.clone().set_visibility(bearer(publish, &app.viewer)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn unlisted_titles_open_by_id_but_are_not_listed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let secret = app.create(movie("screener", "Screener", "For press")).await;
    app.set_visibility(&secret.id, pb::Visibility::Unlisted).await;
    assert!(app.get(&secret.id, Some(&app.viewer)).await.is_ok());
    let listed = app.list(pb::ListTitlesRequest::default()).await.unwrap();
    assert!(listed.titles.is_empty());
    let found = app.search("screener").await.unwrap();
    assert!(found.titles.is_empty());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn bad_input_gets_field_scoped_errors_and_taken_slugs_already_exists(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.create(movie("taken", "Taken", "")).await;
    let again = app.try_create(Some(movie("taken", "Other", ""))).await.unwrap_err();
    assert_eq!(again.code(), tonic::Code::AlreadyExists);
    assert_eq!(code(&again), "slug_taken");

    let bad = app.try_create(Some(movie("Bad Slug!", "X", ""))).await.unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert_eq!(code(&bad), "invalid_argument");
    assert_eq!(bad.metadata().get("ottr-error-field").unwrap(), "fields.slug");

    let missing = app.try_create(None).await;
    assert_eq!(missing.unwrap_err().metadata().get("ottr-error-field").unwrap(), "fields");

    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(app.get(&unknown, Some(&app.editor)).await.unwrap_err().code(), tonic::Code::NotFound);
    let update = pb::UpdateTitleRequest { id: unknown, fields: Some(movie("x", "X", "")) };
    let refused = app.catalog.clone().update_title(bearer(update, &app.editor)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn pages_return_every_title_once_while_new_ones_arrive(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(app.published(movie(&format!("film-{i}"), &format!("Film {i}"), "")).await.id);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut added = 0;
    loop {
        let page = app
            .catalog
            .clone()
            .list_titles(pb::ListTitlesRequest { page_size: 3, page_token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.titles.into_iter().map(|t| t.id));
        // New titles published between pages land before the cursor and never shift it.
        app.published(movie(&format!("late-{added}"), "Late", "")).await;
        added += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each exactly once");

    let bad = app.list(pb::ListTitlesRequest { page_token: "nope".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(bad.metadata().get("ottr-error-field").unwrap(), "page_token");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn browsing_by_genre_shows_only_that_genre(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut noir = movie("noir", "Noir", "");
    noir.genres = vec!["Noir".into(), "Drama".into()];
    let noir = app.published(noir).await;
    let mut comedy = movie("comedy", "Comedy", "");
    comedy.genres = vec!["Comedy".into()];
    app.published(comedy).await;
    let page = app.list(pb::ListTitlesRequest { genre: "NOIR".into(), ..Default::default() }).await.unwrap();
    assert_eq!(page.titles.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), vec![noir.id.as_str()]);
}
