//! The `gradhub` command: parses the command line and hands over to `gradhub::cli`.

fn main() {
    gradhub::cli::exit(gradhub::cli::main());
}
