//! Reading configuration files: Host and Match activity, Include, and the
//! first-value-wins application of every active line to [`Options`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::matching::{self, Subject};
use super::parse::{Line, parse_lines};
use super::pattern::list_matches;
use super::tokens::{self, HOSTNAME_TOKENS, Tokens};
use super::{MatchContext, keywords};
use crate::options::Options;

/// ssh's READCONF_MAX_DEPTH.
const MAX_INCLUDE_DEPTH: usize = 16;

/// One pass over the configuration files.
pub(super) struct Pass<'a> {
    pub options: &'a mut Options,
    pub ctx: &'a MatchContext,
    pub final_pass: bool,
    /// Set when any `Match final` is seen.
    pub wants_final: bool,
    pub exec: &'a mut dyn FnMut(&str) -> bool,
    /// Check the owner and mode of the user file and its includes.
    pub check_permissions: bool,
}

impl Pass<'_> {
    /// Reads one top-level file. A missing file is skipped unless `required`.
    pub fn read_top(&mut self, path: &Path, user_config: bool, required: bool) -> Result<()> {
        let mut active = true;
        let found = self.read_file(path, user_config, &mut active, false, 0)?;
        if !found && required {
            bail!(
                "Can't open user config file {}: No such file or directory",
                path.display()
            );
        }
        Ok(())
    }

    /// Returns false if the file does not exist.
    fn read_file(
        &mut self,
        path: &Path,
        user_config: bool,
        active: &mut bool,
        never_match: bool,
        depth: usize,
    ) -> Result<bool> {
        if depth > MAX_INCLUDE_DEPTH {
            bail!(
                "{}: Too many recursive configuration includes",
                path.display()
            );
        }
        let file = match crate::strict_modes::open_config(path) {
            Ok(checked) => checked,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut file = match file {
            Ok(file) => file,
            Err(bad) if user_config && self.check_permissions => return Err(bad),
            Err(_) => std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let name = path.display().to_string();
        for line in parse_lines(&text) {
            let line = line.map_err(|(n, e)| anyhow!("{name} line {n}: {e}"))?;
            self.line(&name, &line, user_config, active, never_match, depth)?;
        }
        Ok(true)
    }

    fn line(
        &mut self,
        file: &str,
        line: &Line,
        user_config: bool,
        active: &mut bool,
        never_match: bool,
        depth: usize,
    ) -> Result<()> {
        let n = line.number;
        match line.keyword.as_str() {
            "host" => {
                if line.args.iter().any(String::is_empty) {
                    bail!("{file} line {n}: keyword host empty argument");
                }
                let host = match (self.final_pass, &self.options.host_name) {
                    (true, Some(name)) => name.clone(),
                    _ => self.ctx.original_host.clone(),
                };
                *active = !never_match && matching::host_matches(&host, &line.args);
            }
            "match" => {
                let subject = self.subject()?;
                let mut skip_exec = |_: &str| false;
                let exec: &mut dyn FnMut(&str) -> bool = if never_match {
                    &mut skip_exec
                } else {
                    &mut *self.exec
                };
                let result = matching::match_line(&line.args, &subject, exec)
                    .map_err(|e| anyhow!("{file} line {n}: Bad Match condition: {e}"))?;
                self.wants_final |= result.wants_final;
                *active = !never_match && result.matched;
            }
            "include" => {
                for arg in &line.args {
                    self.include(file, n, arg, user_config, active, never_match, depth)?;
                }
            }
            keyword if keywords::is_supported(keyword) => {
                let result = if *active {
                    self.options.apply(keyword, &line.rest)
                } else {
                    // Values in inactive blocks are still checked, as ssh does.
                    Options::default().apply(keyword, &line.rest)
                };
                result.map_err(|e| anyhow!("{file} line {n}: {e}"))?;
            }
            keyword if keywords::is_ignored(keyword) => {}
            keyword => {
                let ignored = self
                    .options
                    .ignore_unknown
                    .as_deref()
                    .is_some_and(|list| list_matches(keyword, list, true));
                if !ignored {
                    bail!("{file} line {n}: Bad configuration option: {keyword}");
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn include(
        &mut self,
        file: &str,
        n: usize,
        arg: &str,
        user_config: bool,
        active: &mut bool,
        never_match: bool,
        depth: usize,
    ) -> Result<()> {
        let pattern = include_pattern(arg, user_config, &self.ctx.home)
            .map_err(|e| anyhow!("{file} line {n}: {e}"))?;
        let pattern = glob3(&pattern);
        let paths = glob::glob_with(&pattern, GLOB3)
            .map_err(|e| anyhow!("{file} line {n}: glob failed for {pattern}: {e}"))?;
        let outer_active = *active;
        for path in paths {
            let path: PathBuf =
                path.map_err(|e| anyhow!("{file} line {n}: glob failed for {pattern}: {e}"))?;
            if path.is_dir() || dotfile_by_wildcard(&pattern, &path) {
                // ssh opens a directory, reads nothing and goes on; glob(3)
                // never lets a wildcard match a leading dot.
                continue;
            }
            self.read_file(
                &path,
                user_config,
                active,
                never_match || !outer_active,
                depth + 1,
            )?;
            // A Match inside an included file does not leak into the includer.
            *active = outer_active;
        }
        Ok(())
    }

    /// What `Match` compares against right now (earlier lines may have set
    /// HostName, User or Port).
    fn subject(&self) -> Result<Subject> {
        let tokens = current_tokens(self.options, self.ctx, self.final_pass)?;
        Ok(Subject {
            host: tokens.host.clone(),
            original_host: self.ctx.original_host.clone(),
            remote_user: tokens.remote_user.clone(),
            local_user: self.ctx.local_user.clone(),
            final_pass: self.final_pass,
            tokens,
        })
    }
}

/// glob(3) as ssh calls it: wildcards never match a `/`. A leading `.` is
/// handled by [`dotfile_by_wildcard`]: the glob crate's own option drops
/// every dotfile, even for a pattern such as `.*`.
const GLOB3: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// Whether a name in `path` starts with a `.` that its pattern component
/// matched with a wildcard rather than a literal `.`, which glob(3) refuses.
pub(super) fn dotfile_by_wildcard(pattern: &str, path: &Path) -> bool {
    Path::new(pattern)
        .components()
        .zip(path.components())
        .any(|(p, c)| {
            let (p, c) = (
                p.as_os_str().to_string_lossy(),
                c.as_os_str().to_string_lossy(),
            );
            c.starts_with('.') && !p.starts_with('.')
        })
}

/// The glob crate reads `**` as "any number of directories"; glob(3) has no
/// such thing (`**` is `*`), so runs of stars become one.
pub(super) fn glob3(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && out.ends_with('*')) {
            out.push(c);
        }
    }
    out
}

/// Where an `Include` argument points: relative paths live in `~/.ssh` for
/// user files and `/etc/ssh` for the system file, which may not use `~`.
pub(super) fn include_pattern(arg: &str, user_config: bool, home: &Path) -> Result<String> {
    if arg.starts_with('~') && !user_config {
        bail!("bad include path {arg}.");
    }
    let pattern = if arg.starts_with('/') || arg.starts_with('~') {
        arg.to_string()
    } else if user_config {
        format!("~/.ssh/{arg}")
    } else {
        format!("/etc/ssh/{arg}")
    };
    Ok(tokens::expand_tilde(&pattern, home))
}

/// Token values from the options as they stand, with defaults for what is
/// not set yet. HostName gets its `%h` expanded here, as ssh does, unless
/// that has been done already (`expanded`, after the first pass).
pub(super) fn current_tokens(
    options: &Options,
    ctx: &MatchContext,
    expanded: bool,
) -> Result<Tokens> {
    let host = match &options.host_name {
        Some(name) if expanded => name.clone(),
        Some(name) => host_name_tokens(ctx)
            .expand(name, HOSTNAME_TOKENS)
            .map_err(|e| anyhow!("HostName: {e}"))?,
        None => ctx.original_host.clone(),
    };
    Ok(Tokens {
        host_key_alias: options
            .host_key_alias
            .clone()
            .unwrap_or_else(|| host.clone()),
        host,
        original_host: ctx.original_host.clone(),
        port: options.port.unwrap_or(22),
        remote_user: options
            .user
            .clone()
            .unwrap_or_else(|| ctx.local_user.clone()),
        local_user: ctx.local_user.clone(),
        home: ctx.home.to_string_lossy().into_owned(),
        local_host: ctx.local_host.clone(),
        proxy_jump: options
            .proxy_jump
            .clone()
            .filter(|j| j != "none")
            .unwrap_or_default(),
    })
}

/// The tokens HostName may use: only `%h`, the host as given.
fn host_name_tokens(ctx: &MatchContext) -> Tokens {
    Tokens {
        host: ctx.original_host.clone(),
        ..Tokens::default()
    }
}
