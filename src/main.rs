use clap::Parser;
use mboxscope::cli::{run, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let code = run(cli).await;
    std::process::exit(code);
}
