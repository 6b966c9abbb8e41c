//! How forward specs print: exactly the syntax [`super::parse_flagged`] and
//! the `-L`/`-R`/`-D` parsers read back (the round trip is property-tested).

use std::fmt;

use super::{Bind, Endpoint, ForwardSpec, Listen, Target};

impl fmt::Display for Bind {
    /// The bind address followed by `:`, or nothing for the default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Default => Ok(()),
            Bind::All => f.write_str("*:"),
            Bind::Host(h) if h.contains(':') => write!(f, "[{h}]:"),
            Bind::Host(h) => write!(f, "{h}:"),
        }
    }
}

impl Bind {
    /// The address as a user reads it in messages.
    pub fn describe(&self) -> &str {
        match self {
            Bind::Default => "localhost",
            Bind::All => "*",
            Bind::Host(h) => h,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp { bind, port } => write!(f, "{bind}{port}"),
            Listen::Unix(path) => f.write_str(path),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(target) => target.fmt(f),
            Endpoint::Unix(path) => f.write_str(path),
        }
    }
}

impl fmt::Display for ForwardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardSpec::Local { listen, target } => write!(f, "-L {listen}:{target}"),
            ForwardSpec::Remote {
                listen,
                target: Some(target),
            } => write!(f, "-R {listen}:{target}"),
            ForwardSpec::Remote {
                listen,
                target: None,
            } => write!(f, "-R {listen}"),
            ForwardSpec::Dynamic { bind, port } => write!(f, "-D {bind}{port}"),
        }
    }
}
