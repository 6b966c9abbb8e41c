//! The settings of a tunnel's dynamic listeners, from three sshtun keywords
//! (in `-o`, ssh_config `Host` blocks, or an `up` tunnel's `options`). They
//! apply to every dynamic listener of the tunnel: its `-D` listeners and its
//! reverse dynamic `-R` ones (which PermitRemoteOpen also limits).
//!
//! - `DynamicForwardCredentials FILE`: clients must log in as a user of FILE
//!   ([`crate::proxy_auth`]); `none` (the default): no login.
//! - `DynamicForwardPermit RULES`: where clients may connect
//!   ([`crate::proxy_rules`]); `any` by default.
//! - `DynamicForwardOpen yes`: a `-D` listener may be reachable beyond this
//!   machine (`-g`, `*`, a non-loopback address) without credentials. Without
//!   it such a listener is refused before it listens: anyone who could reach
//!   it could use the server's network as their own.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::options::Options;
use crate::proxy_auth::Credentials;
use crate::proxy_rules::Rules;
use crate::spec::{Bind, ForwardSpec};

/// What a dynamic listener asks of its clients.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Users who may connect; `None`: anyone who can reach the listener.
    pub credentials: Option<Arc<Credentials>>,
    /// Where they may connect to.
    pub rules: Arc<Rules>,
}

/// What a tunnel's dynamic listeners ask of their clients.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    pub policy: Policy,
    /// DynamicForwardOpen: serve beyond loopback without credentials.
    pub open: bool,
}

impl ProxySettings {
    /// Reads the keywords; `expand` turns the file's name into a path (`~`,
    /// `%` tokens). The credentials file is read now: a bad one is a
    /// configuration error.
    pub fn from_options(
        options: &Options,
        expand: impl Fn(&str) -> Result<PathBuf>,
    ) -> Result<Self> {
        let credentials = match options.dynamic_forward_credentials.as_deref() {
            None | Some("none") => None,
            Some(file) => Some(Credentials::load(&expand(file)?)?),
        };
        let rules =
            Rules::parse(options.dynamic_forward_permit.as_deref()).map_err(anyhow::Error::msg)?;
        Ok(ProxySettings {
            policy: Policy {
                credentials,
                rules: Arc::new(rules),
            },
            open: options.dynamic_forward_open.unwrap_or(false),
        })
    }

    /// Refuses a `-D` whose bind address is known, from the spec alone, to
    /// reach beyond loopback while there are no credentials and no opt-in.
    /// (Host names are checked once resolved: [`Self::check_addresses`].)
    pub fn check_spec(&self, spec: &ForwardSpec, gateway_ports: bool) -> Result<()> {
        let ForwardSpec::Dynamic { bind, .. } = spec else {
            return Ok(());
        };
        let exposed = match bind {
            Bind::Default => gateway_ports,
            Bind::All => true,
            Bind::Host(h) => h.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()),
        };
        if exposed {
            self.refuse_open(spec)?;
        }
        Ok(())
    }

    /// The same check on the addresses a `-D` is about to bind.
    pub fn check_addresses(&self, spec: &ForwardSpec, addresses: &[IpAddr]) -> Result<()> {
        if addresses.iter().any(|ip| !ip.is_loopback()) {
            self.refuse_open(spec)?;
        }
        Ok(())
    }

    fn refuse_open(&self, spec: &ForwardSpec) -> Result<()> {
        if self.policy.credentials.is_some() || self.open {
            return Ok(());
        }
        bail!(
            "refusing to serve {spec} beyond loopback without credentials: anyone who can reach it could use the server's network. \
             Set DynamicForwardCredentials FILE (users who may connect), or DynamicForwardOpen yes to run an open proxy"
        )
    }

    /// The `-G` lines, as ssh prints its own keywords.
    pub fn dump(options: &Options) -> Vec<(&'static str, String)> {
        let permit = options.dynamic_forward_permit.as_ref().map(|p| p.join(" "));
        vec![
            (
                "dynamicforwardcredentials",
                options
                    .dynamic_forward_credentials
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            ),
            (
                "dynamicforwardopen",
                if options.dynamic_forward_open.unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ),
            (
                "dynamicforwardpermit",
                permit.unwrap_or_else(|| "any".into()),
            ),
        ]
    }

    /// What `status` shows of a dynamic listener: `auth` (the credentials
    /// file, or null), `permit` (the rules) and `open`.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "auth": self.policy.credentials.as_ref().map(|c| c.path().display().to_string()),
            "permit": self.policy.rules.to_string(),
            "open": self.open,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_dynamic;

    fn settings(words: &[&str]) -> ProxySettings {
        let mut options = Options::default();
        for w in words {
            options.apply_arg(w).unwrap();
        }
        ProxySettings::from_options(&options, |p| Ok(PathBuf::from(p))).unwrap()
    }

    #[test]
    fn a_dynamic_forward_beyond_loopback_needs_credentials_or_an_opt_in() {
        let closed = settings(&[]);
        let open = settings(&["DynamicForwardOpen=yes"]);
        for (spec, gateway, exposed) in [
            ("1080", false, false),
            ("1080", true, true),
            ("localhost:1080", true, false),
            ("127.0.0.1:1080", false, false),
            ("[::1]:1080", false, false),
            ("*:1080", false, true),
            ("0.0.0.0:1080", false, true),
            ("192.0.2.1:1080", false, true),
        ] {
            let spec = parse_dynamic(spec).unwrap();
            let refused = closed.check_spec(&spec, gateway);
            assert_eq!(refused.is_err(), exposed, "{spec} -g={gateway}");
            if let Err(e) = refused {
                let text = e.to_string();
                assert!(
                    text.contains("DynamicForwardCredentials")
                        && text.contains("DynamicForwardOpen yes"),
                    "{text}"
                );
            }
            open.check_spec(&spec, gateway).unwrap();
        }
        let spec = parse_dynamic("gateway.example:1080").unwrap();
        assert!(
            closed.check_spec(&spec, false).is_ok(),
            "names are checked once resolved"
        );
        assert!(
            closed
                .check_addresses(&spec, &["192.0.2.1".parse().unwrap()])
                .is_err()
        );
        assert!(
            closed
                .check_addresses(
                    &spec,
                    &["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]
                )
                .is_ok()
        );
    }

    #[test]
    fn dump_shows_defaults_and_settings() {
        assert_eq!(
            ProxySettings::dump(&Options::default()),
            [
                ("dynamicforwardcredentials", "none".to_string()),
                ("dynamicforwardopen", "no".into()),
                ("dynamicforwardpermit", "any".into()),
            ]
        );
        let mut options = Options::default();
        options
            .apply_arg("DynamicForwardPermit=!10.0.0.0/8:* *:443")
            .unwrap();
        assert_eq!(ProxySettings::dump(&options)[2].1, "!10.0.0.0/8:* *:443");
    }
}
