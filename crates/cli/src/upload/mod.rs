//! `ottr upload FILE`: an editor's upload to an edge over tus 1.0, resumable across runs
//! ([`state`] remembers each file's upload URL), with retries when a connection drops
//! ([`transfer`]), an optional draft title the asset is attached to ([`title`]), and the
//! transcode followed to its end ([`job`]), each with a progress bar ([`progress`]).

mod api;
mod job;
mod progress;
mod sse;
mod state;
mod title;
mod transfer;
mod tus;

use std::io::BufRead;

use anyhow::Context;
use indicatif::HumanBytes;

use crate::cli::UploadArgs;
use api::{Edge, Session};
use state::{Entry, Source, StateStore, TitleRef};
use transfer::{Plan, Sent};
use tus::{Finished, TusClient};

/// Ctrl-C, or `--stop-after-chunks`, stopped the upload; the next run resumes it. The
/// command exits 130, as a shell reports a command ended by SIGINT.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Interrupted(String);

const MIB: u64 = 1024 * 1024;

/// One file's upload, as this run knows it.
struct Upload<'a> {
    tus: TusClient<'a>,
    store: StateStore,
    /// The file's fingerprint: its key in the state file.
    key: String,
    entry: Entry,
}

pub(crate) async fn run(args: UploadArgs) -> anyhow::Result<()> {
    let source = Source::open(&args.file)?;
    let edge = Edge::parse(&args.edge)?;
    let session = session(&args, edge).await?;
    let store = StateStore::default_location()?;
    let (mut upload, offset) = Upload::resume_or_create(&session, store, &source).await?;
    let title = upload.title(&session, args.title.as_deref()).await?;
    let plan = Plan {
        chunk: args.chunk_bytes.unwrap_or(args.chunk_mib.saturating_mul(MIB)).max(1),
        stop_after: args.stop_after_chunks,
    };
    let finished = upload.send(&source, offset, plan).await?;
    println!("uploaded {}: asset {}, job {}", source.filename, finished.asset_id, finished.job_id);
    if let Some(title) = &title {
        title::attach(&session, title, &finished.asset_id).await?;
        println!("title \"{}\" ({}, draft) plays asset {}", title.name, title.slug, finished.asset_id);
    }
    // Only now: until the title has its asset, a new run finds the finished upload again.
    upload.forget()?;
    if !args.no_wait {
        follow(&session, &finished).await?;
    }
    Ok(())
}

/// Signs in with `--email` (password from standard input or `OTTR_PASSWORD`), else uses
/// `--token` / `OTTR_TOKEN`.
async fn session(args: &UploadArgs, edge: Edge) -> anyhow::Result<Session> {
    let http = api::client()?;
    match (&args.email, &args.token) {
        (Some(email), _) => {
            let password = password(args.password_stdin)?;
            Session::sign_in(http, edge, email, &password).await.with_context(|| format!("signing in as {email}"))
        }
        (None, Some(token)) => Ok(Session::with_token(http, edge, token.clone())),
        (None, None) => {
            anyhow::bail!("sign in with --email (and --password-stdin or OTTR_PASSWORD), or give --token (OTTR_TOKEN)")
        }
    }
}

fn password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    std::env::var("OTTR_PASSWORD").context("no password: use --password-stdin or set OTTR_PASSWORD")
}

impl<'a> Upload<'a> {
    /// The upload this file already has on the edge, with the offset to go on from, or a
    /// new one from 0. It is remembered before a byte is sent.
    async fn resume_or_create(
        session: &'a Session,
        store: StateStore,
        source: &Source,
    ) -> anyhow::Result<(Upload<'a>, u64)> {
        let tus = TusClient::new(session);
        let key = source.fingerprint(session.edge().as_str());
        if let Some(entry) = store.get(&key)? {
            let url = entry.url.parse().with_context(|| format!("the remembered URL {} is not a URL", entry.url))?;
            match tus.offset(&url).await? {
                Some(offset) => {
                    let (at, of) = (HumanBytes(offset), HumanBytes(source.length));
                    println!("resuming {} at {at} of {of}", source.filename);
                    return Ok((Self { tus, store, key, entry }, offset));
                }
                None => println!("the edge no longer has the earlier upload of {}; starting over", source.filename),
            }
        }
        let created = tus.create(source.length, &source.filename).await?;
        let entry =
            Entry { url: created.url.into(), length: source.length, expires_at: created.expires_at, title: None };
        store.put(&key, entry.clone())?;
        Ok((Self { tus, store, key, entry }, 0))
    }

    /// The draft title named `name`: the one an earlier run made for this upload, or a new
    /// one, remembered beside the upload. Without a name, the one an earlier run made, if any.
    async fn title(&mut self, session: &Session, name: Option<&str>) -> anyhow::Result<Option<TitleRef>> {
        let earlier = self.entry.title.as_ref().filter(|t| name.is_none_or(|name| t.name == name));
        let Some(name) = name else { return Ok(earlier.cloned()) };
        if let Some(title) = earlier {
            return Ok(Some(title.clone()));
        }
        let title = title::create_draft(session, name).await?;
        println!("title \"{}\" created as a draft ({})", title.name, title.slug);
        self.entry.title = Some(title.clone());
        self.store.put(&self.key, self.entry.clone())?;
        Ok(Some(title))
    }

    /// Sends the bytes from `offset` with a progress bar, until the edge names the asset;
    /// Ctrl-C leaves the upload to resume.
    async fn send(&self, source: &Source, offset: u64, plan: Plan) -> anyhow::Result<Finished> {
        let url = self.entry.url.parse().context("the upload URL")?;
        let bar = progress::upload_bar(&source.filename, source.length, offset);
        let resume = "run the same command again to resume";
        let sent = tokio::select! {
            sent = transfer::send_all(&self.tus, source, &url, offset, plan, &bar) => sent,
            _ = tokio::signal::ctrl_c() => {
                bar.abandon();
                return Err(Interrupted(format!("interrupted; {resume}")).into());
            }
        };
        match sent {
            Ok(Sent::Finished(finished)) => {
                bar.finish();
                Ok(finished)
            }
            Ok(Sent::Stopped { offset }) => {
                bar.abandon();
                let at = HumanBytes(offset);
                Err(Interrupted(format!("stopped at {at} as asked (--stop-after-chunks); {resume}")).into())
            }
            Err(error) => {
                bar.abandon();
                if transfer::upload_lost(&error) {
                    self.store.remove(&self.key)?;
                }
                Err(error).with_context(|| format!("uploading {}", source.path.display()))
            }
        }
    }

    fn forget(&self) -> anyhow::Result<()> {
        self.store.remove(&self.key)
    }
}

/// Follows the transcode to `ready`; Ctrl-C stops following, not the job.
async fn follow(session: &Session, finished: &Finished) -> anyhow::Result<()> {
    let bar = progress::transcode_bar();
    tokio::select! {
        followed = job::follow(session, &finished.job_id, &bar) => followed?,
        _ = tokio::signal::ctrl_c() => {
            bar.abandon();
            return Err(Interrupted("stopped following; the transcode goes on (the studio shows it)".into()).into());
        }
    }
    println!("ready: asset {}", finished.asset_id);
    Ok(())
}
