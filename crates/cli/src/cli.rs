//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "ottr", version, about = "ottr: an OTT video platform")]
pub(crate) struct Cli {
    /// A TOML settings file, read after the built-in defaults and before
    /// `OTTR__SECTION__KEY` environment variables.
    #[arg(long, global = true, env = "OTTR_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Apply migrations, then run every service in this process, each on its own port.
    Up {
        #[command(flatten)]
        ready: ReadyArg,
    },
    /// Run one service.
    Serve {
        #[arg(value_enum)]
        service: Service,
        #[command(flatten)]
        ready: ReadyArg,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Upload a video to an edge (resumable: run it again after Ctrl-C or a lost
    /// connection), then follow its transcode until it is ready.
    Upload(Box<UploadArgs>),
}

#[derive(Debug, clap::Args)]
pub(crate) struct UploadArgs {
    /// The video file.
    pub file: PathBuf,
    /// Create a draft movie title with this name and attach the upload's asset to it.
    #[arg(long, value_name = "NAME")]
    pub title: Option<String>,
    /// The edge's URL.
    #[arg(long, env = "OTTR_EDGE_URL", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub edge: String,
    /// Sign in as this editor (or admin); the password comes from --password-stdin or
    /// the OTTR_PASSWORD environment variable.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, requires = "email")]
    pub password_stdin: bool,
    /// An access token to use instead of signing in (it is not renewed, so a long upload
    /// may outlive it).
    #[arg(long, env = "OTTR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// MiB sent per request (a request that breaks off keeps every whole part it brought,
    /// and each request has a fixed cost, so larger requests are faster and lose nothing).
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub chunk_mib: u64,
    /// Stop once the upload is complete instead of following the transcode.
    #[arg(long)]
    pub no_wait: bool,
    /// Bytes per request, overriding --chunk-mib (for tests).
    #[arg(long, hide = true)]
    pub chunk_bytes: Option<u64>,
    /// Stop after this many requests, as Ctrl-C would (for tests).
    #[arg(long, hide = true)]
    pub stop_after_chunks: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReadyArg {
    /// Once every listener is bound, write `{"<service>": {"address", "port"}}` here
    /// (atomically: a temporary file renamed into place); removed when the process ends.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Service {
    Auth,
    Catalog,
    Media,
    Edge,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        /// May be repeated; defaults to viewer.
        #[arg(long = "role", value_enum)]
        roles: Vec<RoleArg>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Editor,
    Admin,
}

impl From<RoleArg> for ottr_runtime::token::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Viewer => Self::Viewer,
            RoleArg::Editor => Self::Editor,
            RoleArg::Admin => Self::Admin,
        }
    }
}
