//! PermitRemoteOpen (ssh_config): which targets the SOCKS clients of a reverse
//! dynamic forward (`-R [bind:]port`) may have sshtun connect to. `any` (the
//! default), `none`, or `host:port` entries with `*` for any host or any port;
//! names are compared as written, without lookups, as ssh does.

use super::PermitOpen;

/// A parsed PermitRemoteOpen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RemoteOpen {
    #[default]
    Any,
    None,
    Only(Vec<PermitOpen>),
}

impl RemoteOpen {
    /// Parses the keyword's arguments (None: not configured, so `any`).
    pub fn parse(args: Option<&[String]>) -> Result<RemoteOpen, String> {
        let Some(args) = args else {
            return Ok(RemoteOpen::Any);
        };
        match args {
            [one] if one.eq_ignore_ascii_case("any") => Ok(RemoteOpen::Any),
            [one] if one.eq_ignore_ascii_case("none") => Ok(RemoteOpen::None),
            [] => Err("PermitRemoteOpen: missing argument".into()),
            entries => entries
                .iter()
                .map(|e| PermitOpen::parse(e).map_err(|err| format!("PermitRemoteOpen: {err}")))
                .collect::<Result<_, _>>()
                .map(RemoteOpen::Only),
        }
    }

    /// Whether a SOCKS request for `host:port` may be connected.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        match self {
            RemoteOpen::Any => true,
            RemoteOpen::None => false,
            RemoteOpen::Only(list) => list.iter().any(|p| p.allows(host, u32::from(port))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<RemoteOpen, String> {
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        RemoteOpen::parse(Some(&args))
    }

    #[test]
    fn permit_remote_open() {
        assert!(RemoteOpen::parse(None).unwrap().allows("anything", 1));
        assert!(parse(&["any"]).unwrap().allows("db", 5432));
        assert!(!parse(&["none"]).unwrap().allows("db", 5432));
        let list = parse(&["db:5432", "*:80", "127.0.0.1:*", "[::1]:22"]).unwrap();
        let cases = [
            ("db", 5432, true),
            ("DB", 5432, true),
            ("db", 5433, false),
            ("web", 80, true),
            ("127.0.0.1", 9, true),
            ("127.0.0.2", 9, false),
            ("::1", 22, true),
            ("localhost", 22, false),
        ];
        for (host, port, want) in cases {
            assert_eq!(list.allows(host, port), want, "{host}:{port}");
        }
        assert!(parse(&["db"]).is_err());
        assert!(parse(&[]).is_err());
    }
}
