//! User authentication in ssh's order: the agent, then identity files (asking for
//! a passphrase on the terminal when a key is encrypted), then keyboard-interactive
//! and password prompts. With no terminal or under BatchMode nothing is asked and
//! a failure says why. Secrets are never logged. The agent part is in [`agent`]; a key file's user
//! certificates ([`cert`]) are offered before the plain key.

mod agent;
mod cert;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use russh::MethodKind;
use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use tracing::{debug, error, info, warn};

use super::ClientHandler;
use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::prompt;
use crate::sanitize;

/// What happened along the way, for a useful message if nothing works.
struct Attempt<'a> {
    handle: &'a mut Handle<ClientHandler>,
    config: &'a TunnelConfig,
    interactive: bool,
    offered: Vec<MethodKind>,
    tried_keys: Vec<PublicKey>,
    notes: Vec<String>,
}

/// Authenticates or fails with [`Failure::Auth`] and a message naming what was tried.
pub async fn authenticate(handle: &mut Handle<ClientHandler>, config: &TunnelConfig) -> Result<()> {
    let interactive = !config.batch_mode && prompt::terminal_available();
    let user = config.user.clone();
    let offered = match handle
        .authenticate_none(user)
        .await
        .context("authentication request failed")?
    {
        AuthResult::Success => return Ok(()),
        AuthResult::Failure {
            remaining_methods, ..
        } => remaining_methods.to_vec(),
    };
    debug!("server offers: {}", names(&offered));
    let mut attempt = Attempt {
        handle,
        config,
        interactive,
        offered,
        tried_keys: Vec::new(),
        notes: Vec::new(),
    };
    if attempt.run().await? {
        return Ok(());
    }
    let mut message = format!(
        "Permission denied for {}@{} (server offers: {})",
        config.user,
        config.host,
        names(&attempt.offered)
    );
    for note in &attempt.notes {
        message.push_str("; ");
        message.push_str(note);
    }
    Err(anyhow!(message).context(Failure::Auth))
}

fn names(methods: &[MethodKind]) -> String {
    methods
        .iter()
        .map(<&str>::from)
        .collect::<Vec<_>>()
        .join(",")
}

impl Attempt<'_> {
    async fn run(&mut self) -> Result<bool> {
        if self.config.pubkey_authentication
            && self.offers(MethodKind::PublicKey)
            && (self.try_agent().await? || self.try_identity_files().await?)
        {
            return Ok(true);
        }
        if self.config.kbd_interactive_authentication
            && self.offers(MethodKind::KeyboardInteractive)
        {
            if !self.interactive {
                self.note("keyboard-interactive needs a terminal");
            } else if self.try_keyboard_interactive().await? {
                return Ok(true);
            }
        }
        if self.config.password_authentication && self.offers(MethodKind::Password) {
            if !self.interactive {
                self.note("password authentication needs a terminal (BatchMode or no TTY)");
            } else if self.try_password().await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn offers(&self, method: MethodKind) -> bool {
        self.offered.contains(&method)
    }

    fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Records the server's answer; true when authentication is complete.
    fn settle(&mut self, result: AuthResult) -> bool {
        match result {
            AuthResult::Success => true,
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                self.offered = remaining_methods.to_vec();
                false
            }
        }
    }

    async fn rsa_hash(&mut self, is_rsa: bool) -> Option<HashAlg> {
        if !is_rsa {
            return None;
        }
        self.handle
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten()
    }

    async fn try_identity_files(&mut self) -> Result<bool> {
        for path in self.config.identity_files.clone() {
            let Some(key) = self.load_identity(&path).await else {
                continue;
            };
            // Its certificates are worth offering even if the agent tried the key.
            let tried = self.tried_keys.contains(key.public_key());
            let key = Arc::new(key);
            if self.try_certificates(&path, &key).await? {
                return Ok(true);
            }
            if tried {
                continue;
            }
            self.tried_keys.push(key.public_key().clone());
            debug!("offering key {}", path.display());
            let hash = self.rsa_hash(key.algorithm().is_rsa()).await;
            let key = PrivateKeyWithHashAlg::new(key, hash);
            let result = self
                .handle
                .authenticate_publickey(self.config.user.clone(), key)
                .await
                .context("public key authentication failed")?;
            if self.settle(result) {
                info!("authenticated with {}", path.display());
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Loads a private key, refusing one others can read and asking for the
    /// passphrase of an encrypted one when a terminal is available.
    async fn load_identity(&mut self, path: &Path) -> Option<PrivateKey> {
        let shown = path.display();
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                if self.config.identity_files_explicit {
                    warn!("identity file {shown} not accessible: {e}");
                    self.note(format!("identity file {shown} not accessible: {e}"));
                }
                return None;
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let text = format!(
                "Permissions 0{mode:o} for '{shown}' are too open: private key files must not be accessible by others, so this key was ignored"
            );
            error!("{text}");
            self.note(text);
            return None;
        }
        match russh::keys::load_secret_key(path, None) {
            Ok(key) => return Some(key),
            Err(russh::keys::Error::KeyIsEncrypted) => {}
            Err(e) => {
                warn!("could not load key {shown}: {e}");
                self.note(format!("could not load key {shown}: {e}"));
                return None;
            }
        }
        if !self.interactive {
            self.note(format!(
                "key {shown} is encrypted and there is no terminal to ask for its passphrase"
            ));
            return None;
        }
        for _ in 0..3 {
            let question = format!("Enter passphrase for key '{shown}': ");
            let passphrase = ask_secret(question).await.ok()?;
            if passphrase.is_empty() {
                return None;
            }
            match russh::keys::load_secret_key(path, Some(&passphrase)) {
                Ok(key) => return Some(key),
                Err(_) => eprintln!("Bad passphrase, try again for {shown}"),
            }
        }
        self.note(format!("wrong passphrase for {shown}"));
        None
    }

    async fn try_keyboard_interactive(&mut self) -> Result<bool> {
        let user = self.config.user.clone();
        let mut response = self
            .handle
            .authenticate_keyboard_interactive_start(user, None)
            .await?;
        for _ in 0..16 {
            match response {
                KeyboardInteractiveAuthResponse::Success => return Ok(true),
                KeyboardInteractiveAuthResponse::Failure {
                    remaining_methods, ..
                } => {
                    self.offered = remaining_methods.to_vec();
                    return Ok(false);
                }
                KeyboardInteractiveAuthResponse::InfoRequest {
                    name,
                    instructions,
                    prompts,
                } => {
                    // The server's words, escaped as ssh does (strnvis), on
                    // stderr; each prompt names the connection asking.
                    for text in [name, instructions] {
                        if !text.is_empty() {
                            eprintln!("{}", sanitize::for_terminal(&text));
                        }
                    }
                    let mut answers = Vec::with_capacity(prompts.len());
                    for p in prompts {
                        let question = format!(
                            "({}@{}) {}",
                            self.config.user,
                            self.prompt_host(),
                            sanitize::for_log(&p.prompt)
                        );
                        let answer = if p.echo {
                            tokio::task::spawn_blocking(move || prompt::line(&question)).await??
                        } else {
                            ask_secret(question).await?
                        };
                        answers.push(answer);
                    }
                    response = self
                        .handle
                        .authenticate_keyboard_interactive_respond(answers)
                        .await?;
                }
            }
        }
        Ok(false)
    }

    /// The host prompts name, as ssh's: HostKeyAlias if set, else the host.
    fn prompt_host(&self) -> &str {
        self.config
            .host_key_alias
            .as_deref()
            .unwrap_or(&self.config.host)
    }

    async fn try_password(&mut self) -> Result<bool> {
        for _ in 0..3 {
            let question = format!("{}@{}'s password: ", self.config.user, self.prompt_host());
            let password = ask_secret(question).await?;
            let result = self
                .handle
                .authenticate_password(self.config.user.clone(), password)
                .await?;
            if self.settle(result) {
                return Ok(true);
            }
            if !self.offers(MethodKind::Password) {
                break;
            }
            eprintln!("Permission denied, please try again.");
        }
        Ok(false)
    }
}

async fn ask_secret(question: String) -> Result<String> {
    tokio::task::spawn_blocking(move || prompt::secret(&question)).await?
}
