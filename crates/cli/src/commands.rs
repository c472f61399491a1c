//! What each subcommand does.

use std::{io::BufRead, sync::Arc};

use anyhow::Context;
use tokio::{sync::watch, task::JoinSet};

use ottr_runtime::{
    config, db,
    redis::Redis,
    shutdown, telemetry,
    token::{Revocations, Role, TokenVerifier},
};

use crate::{
    cli::{Cli, Command, Service, UserCommand},
    first_run,
    ready::{Listeners, ReadyFile},
    settings::Settings,
    upload,
};

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    // A client of an edge anywhere: neither this machine's settings nor its logs apply.
    if let Command::Upload(args) = cli.command {
        return upload::run(*args).await;
    }
    let settings: Settings = config::load(cli.config.as_deref()).context("reading settings")?;
    telemetry::init(&settings.telemetry);
    match cli.command {
        Command::Migrate => {
            db::migrate(&settings.database).await.context("applying migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Up { ready } => {
            let ready = ReadyFile::new(ready.ready_file)?;
            db::migrate(&settings.database).await.context("applying migrations")?;
            let first_admin =
                first_run::admin(&db::pool(&settings.database)?).await.context("creating the first admin")?;
            if let Some(password) = &first_admin {
                println!("first run: created {} with password {password}", first_run::ADMIN_EMAIL);
                println!("(shown once; it is stored only as an argon2id hash)");
            }
            let mut settings = settings;
            // One process on one machine: the only case where a random playback secret is
            // right (every edge of a deployment must share one, so `serve` never makes it up).
            if secrecy::ExposeSecret::expose_secret(&settings.edge.playback.secret).is_empty() {
                settings.edge.playback.secret = ottr_edge::config::PlaybackSettings::generate_secret();
            }
            let all = [Service::Auth, Service::Catalog, Service::Media, Service::Edge];
            serve(&settings, &all, first_admin, &ready).await
        }
        Command::Serve { service, ready } => {
            serve(&settings, &[service], None, &ReadyFile::new(ready.ready_file)?).await
        }
        Command::User { command: UserCommand::Create { email, roles, password_stdin } } => {
            create_user(&settings, &email, roles.into_iter().map(Role::from).collect(), password_stdin).await
        }
        Command::Upload(_) => unreachable!("handled before the settings are read"),
    }
}

/// Starts each service on its own port, prints where, and stops them all together on
/// Ctrl-C or SIGTERM.
async fn serve(
    settings: &Settings,
    services: &[Service],
    demo_password: Option<String>,
    ready: &ReadyFile,
) -> anyhow::Result<()> {
    // Services in this process verify tokens against the auth started here, wherever it bound.
    let mut tokens = settings.tokens.clone();
    // And the edge reaches the services started here, wherever they bound.
    let mut edge = settings.edge.clone();
    let pool = db::pool(&settings.database)?;
    let redis = Redis::connect(&settings.redis)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = JoinSet::new();
    let mut listeners = Listeners::default();
    for service in services {
        let stopped = {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        match service {
            Service::Auth => {
                let deps = ottr_auth::Dependencies { pool: pool.clone(), redis: redis.clone() };
                let auth = with_activation_page(&settings.auth, &settings.edge);
                let app = ottr_auth::Application::build(&auth, &tokens, deps).await.context("starting auth")?;
                println!("auth listening on {}:{}", settings.auth.listen.host, app.port());
                listeners.add("auth", &settings.auth.listen.host, app.port());
                tokens.auth_url = format!("http://{}:{}", settings.auth.listen.host, app.port());
                edge.auth_url = tokens.auth_url.clone();
                running.spawn(async move { app.run_until_stopped(stopped).await.context("auth") });
            }
            Service::Catalog => {
                let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
                let deps = ottr_catalog::Dependencies { pool: pool.clone(), redis: redis.clone(), verifier };
                let app =
                    ottr_catalog::Application::build(&settings.catalog, deps).await.context("starting catalog")?;
                println!("catalog listening on {}:{}", settings.catalog.listen.host, app.port());
                listeners.add("catalog", &settings.catalog.listen.host, app.port());
                edge.catalog_url = format!("http://{}:{}", settings.catalog.listen.host, app.port());
                running.spawn(async move { app.run_until_stopped(stopped).await.context("catalog") });
            }
            Service::Media => {
                let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
                let deps = ottr_media::Dependencies {
                    pool: pool.clone(),
                    redis: redis.clone(),
                    redis_settings: settings.redis.clone(),
                    verifier,
                };
                let app =
                    ottr_media::Application::build(settings.media.clone(), deps).await.context("starting media")?;
                println!("media listening on {}:{}", settings.media.listen.host, app.port());
                listeners.add("media", &settings.media.listen.host, app.port());
                edge.media_url = format!("http://{}:{}", settings.media.listen.host, app.port());
                running.spawn(async move { app.run_until_stopped(stopped).await.context("media") });
            }
            Service::Edge => {
                // Read-only: the edge creates no bucket and needs only read permission.
                let storage = settings.edge.storage_or(&settings.media.storage);
                let store =
                    ottr_storage::ObjectStore::open_read_only(storage).await.context("opening object storage")?;
                let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
                let deps = ottr_edge::Dependencies { store, verifier };
                let app = ottr_edge::Application::build(&edge, deps).await.context("starting edge")?;
                println!("edge listening on {}:{}", edge.listen.host, app.port());
                listeners.add("edge", &edge.listen.host, app.port());
                println!("ottr is up: the web app is at http://{}:{}/", edge.listen.host, app.port());
                running.spawn(async move { app.run_until_stopped(stopped).await.context("edge") });
            }
        }
    }
    ready.write(&listeners)?;
    if let Some(password) = demo_password {
        let (auth, catalog, media) = (edge.auth_url.clone(), edge.catalog_url.clone(), edge.media_url.clone());
        let work = settings.media.work_dir.join("demo");
        tokio::spawn(async move {
            println!("first run: making and transcoding a demo clip in the background");
            match first_run::demo(auth, catalog, media, password, work).await {
                Ok(()) => println!("first run: the demo title is published"),
                Err(error) => eprintln!("first run: the demo clip could not be made: {error:#}"),
            }
        });
    }
    tokio::select! {
        () = shutdown::signal() => {}
        Some(ended) = running.join_next() => {
            // One service ending on its own takes the others down with it.
            let _ = stop_tx.send(true);
            ended??;
            anyhow::bail!("a service stopped unexpectedly");
        }
    }
    let _ = stop_tx.send(true);
    while let Some(ended) = running.join_next().await {
        ended??;
    }
    Ok(())
}

/// Auth tells TV apps where viewers confirm their code: the web app's activation page on
/// the edge. Unless it is configured, it is taken from the edge's settings (its public URL,
/// else its listen address), which every service of a deployment shares.
fn with_activation_page(auth: &ottr_auth::AuthSettings, edge: &ottr_edge::EdgeSettings) -> ottr_auth::AuthSettings {
    let mut auth = auth.clone();
    if auth.device.verification_uri.is_empty() {
        let base = match edge.public_url.trim_end_matches('/') {
            "" => format!("http://{}:{}", edge.listen.host, edge.listen.port),
            url => url.to_owned(),
        };
        auth.device.verification_uri = format!("{base}/#/activate");
    }
    auth
}

async fn create_user(
    settings: &Settings,
    email: &str,
    mut roles: Vec<Role>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    if roles.is_empty() {
        roles.push(Role::Viewer);
    }
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password")?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (ottr_auth::domain::password::generate(), true)
    };
    db::migrate(&settings.database).await.context("applying migrations")?;
    let pool = db::pool(&settings.database)?;
    let user = ottr_auth::create_user(&pool, email, &password, &roles).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("created {} ({}) with roles {:?}", user.email, user.id, user.roles);
    if generated {
        println!("password: {password}");
        println!("(shown once; it is stored only as an argon2id hash)");
    }
    Ok(())
}
