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
