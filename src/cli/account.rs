//! `ponte account set|list|delete`: the staff accounts that sign in to the pages with a user
//! name and password, kept in the configured store (how the first admin gets in without a
//! token). `set` reads the password from `PONTE_ACCOUNT_PASSWORD` or, when that is unset,
//! from the first line of standard input, never from the command line (it would show in the
//! process list and the shell's history).

use crate::auth::Role;
use crate::auth::sessions::Sessions;
use crate::config::Config;
use anyhow::Context;
use std::io::BufRead;
use std::process::ExitCode;

/// What to do with the accounts.
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account or change its role, person, groups or password.
    Set {
        /// The user name to sign in with.
        username: String,
        /// attendant, analyst, knowledge_manager or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The staff id the account acts as (the desk's person id); the user name by default.
        #[arg(long)]
        subject: Option<String>,
        /// The knowledge groups, comma-separated.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// Keep the account's password (only for an existing account).
        #[arg(long)]
        keep_password: bool,
    },
    /// List the accounts (never their passwords).
    List,
    /// Delete an account and end its sessions.
    Delete { username: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    match serde_json::from_value::<Role>(serde_json::Value::String(text.to_owned())) {
        Ok(Role::Requester) | Err(_) => Err(format!(
            "{text:?} is not one of attendant, analyst, knowledge_manager, admin"
        )),
        Ok(role) => Ok(role),
    }
}

pub(super) fn run(config: &Config, command: AccountCommand) -> anyhow::Result<ExitCode> {
    let password = match &command {
        AccountCommand::Set {
            keep_password: false,
            ..
        } => Some(read_password()?),
        _ => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = crate::app::open_store(config).await?;
        let sessions = Sessions::new(store.clone());
        let result = apply(&sessions, command, password.as_deref()).await;
        store.close().await;
        result
    })
}

async fn apply(
    sessions: &Sessions,
    command: AccountCommand,
    password: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let outcome = match command {
        AccountCommand::Set {
            username,
            role,
            subject,
            groups,
            ..
        } => {
            let subject = subject.unwrap_or_else(|| username.clone());
            sessions
                .put_account(&username, password, role, &subject, groups)
                .await
                .map(|account| {
                    println!(
                        "account {} set: {} acting as {}",
                        account.username, account.role, account.subject
                    );
                })
        }
        AccountCommand::List => sessions.accounts().await.map(|accounts| {
            for account in accounts {
                println!(
                    "{}\t{}\t{}\t{}",
                    account.username,
                    account.role,
                    account.subject,
                    account.groups.join(",")
                );
            }
        }),
        AccountCommand::Delete { username } => sessions
            .delete_account(&username)
            .await
            .map(|account| println!("account {} deleted", account.username)),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

/// The password from `PONTE_ACCOUNT_PASSWORD`, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("PONTE_ACCOUNT_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
