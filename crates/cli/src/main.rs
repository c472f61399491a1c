//! The `ottr` command.

mod cli;
mod commands;
mod first_run;
mod ready;
mod settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = <cli::Cli as clap::Parser>::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
