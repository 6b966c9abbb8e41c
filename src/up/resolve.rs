//! From a tunnel in the file to the settings a [`Tunnel`](crate::supervisor::Tunnel)
//! runs with: the same resolution as a command line (`-o` options first, then
//! ~/.ssh/config and /etc/ssh/ssh_config for the destination, which may be an
//! alias there).

use anyhow::{Context, Result};

use super::file::TunnelDef;
use crate::config::TunnelConfig;
use crate::ssh_config::command_line::CommandLine;
use crate::supervisor::RetryPolicy;

/// The command line `sshtun -o OPT... DESTINATION` with the tunnel's forwards.
pub fn command_line(def: &TunnelDef) -> CommandLine {
    let mut line = CommandLine::new(&def.destination);
    line.options = def.options.clone();
    line.config_file = def.ssh_config.clone();
    for forward in &def.forwards {
        line.push_forward(forward.clone());
    }
    line
}

/// Resolves one tunnel; errors name it and its line in the file.
pub fn config_for(def: &TunnelDef) -> Result<TunnelConfig> {
    TunnelConfig::from_command_line(&command_line(def))
        .with_context(|| format!("tunnel '{}' (line {})", def.name, def.line))
}

/// How the tunnel treats failures (`up` reconnects unless told not to).
pub fn retry_for(def: &TunnelDef) -> RetryPolicy {
    RetryPolicy {
        reconnect: def.reconnect,
        max_retries: def.max_retries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_forwards_reach_the_resolved_config() {
        let text = r#"
[tunnel.a]
destination = "ssh://carol@127.0.0.1:2201"
forwards = ["-D 1080", "-L 8080:db:80"]
options = ["ServerAliveInterval=7", "ServerAliveCountMax 5", "Port=9"]
"#;
        let def = super::super::file::parse(text, "t.toml").unwrap().remove(0);
        let cli = command_line(&def);
        assert_eq!(cli.destination, "ssh://carol@127.0.0.1:2201");
        let forwards: Vec<String> = cli.forwards().iter().map(|f| f.to_string()).collect();
        assert_eq!(forwards, ["-L 8080:db:80", "-D 1080"]);
        assert_eq!(cli.options.len(), 3);
        // A destination that looks like a subcommand is still a destination.
        let up = TunnelDef {
            destination: "up".into(),
            ..def
        };
        assert_eq!(command_line(&up).destination, "up");
    }
}
