use clap::Parser;
use mboxscope::cli::{run, Cli};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    // The TUI is one user's session: one thread keeps its memory small (the allocator reuses
    // what it frees); the emulator and the commands use every core.
    let runtime = if cli.command.is_none() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    let code = match runtime {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("mboxscope: cannot start the async runtime: {e}");
            2
        }
    };
    std::process::exit(code);
}
