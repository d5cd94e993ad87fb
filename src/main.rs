//! The `ponte` binary: everything lives in the library; see `ponte --help`.

fn main() -> std::process::ExitCode {
    ponte::cli::main()
}
