//! The `gradhub` command: parses the command line and hands over to `gradhub::cli`.

fn main() {
    std::process::exit(gradhub::cli::main());
}
