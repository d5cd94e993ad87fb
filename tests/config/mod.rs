//! Configuration precedence through the binary: a TOML file < an environment variable < a
//! flag, observed through where `ponte reindex` builds the index and which sources it reads.

use crate::common::{fixture, index_dir, ponte, run};
use std::path::Path;
use std::process::Command;

fn built_in(data_dir: &Path) -> bool {
    index_dir(data_dir).join("CURRENT").is_file()
}

struct Setup {
    cwd: tempfile::TempDir,
    config: std::path::PathBuf,
    from_file: tempfile::TempDir,
    from_env: tempfile::TempDir,
    from_flag: tempfile::TempDir,
}

fn setup(config_text: impl Fn(&Path) -> String) -> Setup {
    let cwd = tempfile::tempdir().unwrap();
    let from_file = tempfile::tempdir().unwrap();
    let config = cwd.path().join("ponte.toml");
    std::fs::write(&config, config_text(from_file.path())).unwrap();
    Setup {
        cwd,
        config,
        from_file,
        from_env: tempfile::tempdir().unwrap(),
        from_flag: tempfile::tempdir().unwrap(),
    }
}

fn toml_path(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn reindex(command: &mut Command) -> (bool, String) {
    let (output, stdout, stderr) = run(command.arg("reindex"));
    (output.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn data_dir_comes_from_the_file_then_env_then_flag() {
    let setup = setup(|data_dir| {
        format!(
            "data_dir = {}\nknowledge_dir = {}\n",
            toml_path(data_dir),
            toml_path(&fixture("kb"))
        )
    });
    let with_config = || {
        let mut command = ponte(setup.cwd.path());
        command.arg("--config").arg(&setup.config);
        command
    };

    // The file alone.
    let (ok, output) = reindex(&mut with_config());
    assert!(ok, "{output}");
    assert!(built_in(setup.from_file.path()));

    // The environment beats the file.
    let (ok, output) = reindex(with_config().env("PONTE_DATA_DIR", setup.from_env.path()));
    assert!(ok, "{output}");
    assert!(built_in(setup.from_env.path()));

    // A flag beats both.
    let (ok, output) = reindex(
        with_config()
            .env("PONTE_DATA_DIR", setup.from_env.path())
            .arg("--data-dir")
            .arg(setup.from_flag.path()),
    );
    assert!(ok, "{output}");
    assert!(built_in(setup.from_flag.path()));

    // Each run wrote only where it was told: one generation in each directory, and
    // nothing under the working directory's default `ponte-data`.
    for dir in [&setup.from_file, &setup.from_env, &setup.from_flag] {
        let generations = std::fs::read_dir(index_dir(dir.path()))
            .unwrap()
            .filter(|entry| {
                entry
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("gen-")
            })
            .count();
        assert_eq!(generations, 1, "{}", dir.path().display());
    }
    assert!(!setup.cwd.path().join("ponte-data").exists());
}

#[test]
fn the_config_file_can_be_named_by_the_environment() {
    let setup = setup(|data_dir| {
        format!(
            "data_dir = {}\nknowledge_dir = {}\n",
            toml_path(data_dir),
            toml_path(&fixture("kb"))
        )
    });
    let (ok, output) = reindex(ponte(setup.cwd.path()).env("PONTE_CONFIG", &setup.config));
    assert!(ok, "{output}");
    assert!(built_in(setup.from_file.path()));
}

#[test]
fn knowledge_dir_follows_the_same_precedence() {
    let missing = tempfile::tempdir().unwrap();
    let missing = missing.path().join("not-there");
    let setup = setup(|data_dir| {
        format!(
            "data_dir = {}\nknowledge_dir = {}\n",
            toml_path(data_dir),
            toml_path(&fixture("kb"))
        )
    });
    let with_config = || {
        let mut command = ponte(setup.cwd.path());
        command.arg("--config").arg(&setup.config);
        command
    };
    // A missing directory from the environment beats the good one in the file...
    let (ok, output) = reindex(with_config().env("PONTE_KNOWLEDGE_DIR", &missing));
    assert!(!ok, "{output}");
    assert!(output.contains("not-there"), "{output}");
    assert!(!built_in(setup.from_file.path()));
    // ... and a flag beats the environment.
    let (ok, output) = reindex(
        with_config()
            .env("PONTE_KNOWLEDGE_DIR", &missing)
            .arg("--knowledge-dir")
            .arg(fixture("kb")),
    );
    assert!(ok, "{output}");
    assert!(output.contains("indexed 12 articles"), "{output}");
    assert!(built_in(setup.from_file.path()));
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    for (text, expected) in [
        ("data_dirr = \"x\"\n", "data_dirr"),
        ("data_dir = [1, 2]\n", "ponte.toml"),
        ("listen = \"not an address\"\n", "ponte.toml"),
    ] {
        let setup = setup(|_| text.to_string());
        let (output, stdout, stderr) = run(ponte(setup.cwd.path())
            .arg("--config")
            .arg(&setup.config)
            .arg("reindex"));
        assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
        assert!(stderr.contains("config file"), "{stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
    // A config file that does not exist.
    let cwd = tempfile::tempdir().unwrap();
    let (output, _, stderr) = run(ponte(cwd.path()).args(["--config", "nope.toml", "reindex"]));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nope.toml"), "{stderr}");
}
