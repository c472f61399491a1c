//! The `ottr` command.

mod cli;
mod commands;
mod first_run;
mod ready;
mod settings;
mod upload;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = <cli::Cli as clap::Parser>::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            // 130: what a shell reports for a command ended by Ctrl-C.
            if error.downcast_ref::<upload::Interrupted>().is_some() {
                return std::process::ExitCode::from(130);
            }
            std::process::ExitCode::FAILURE
        }
    }
}
