//! SOCKS5 method negotiation (RFC 1928 section 3) and username/password
//! authentication (RFC 1929). sshtun does these itself rather than through
//! fast-socks5, whose password reader logs the password at debug level.
//! A listener without credentials accepts only 0x00 (no authentication); one
//! with credentials accepts only 0x02, and a wrong name or password gets
//! status 0x01 and the connection closed, before any channel is opened.

use anyhow::{Result, anyhow};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ClientLeft;
use crate::proxy_auth::{Credentials, Refused};

const NO_AUTHENTICATION: u8 = 0x00;
const USERNAME_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xFF;
/// RFC 1929's subnegotiation version, and its statuses.
const SUBNEGOTIATION: u8 = 0x01;
const SUCCESS: u8 = 0x00;
const FAILURE: u8 = 0x01;

/// Reads the greeting (version byte included), answers with the method
/// chosen, and runs that method. An error says what the client did and what
/// it was answered.
pub async fn negotiate<S>(stream: &mut S, credentials: Option<&Credentials>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let [_version, count] = read_array(stream, "reading the greeting").await?;
    let mut methods = vec![0u8; usize::from(count)];
    read_exact(stream, &mut methods, "reading the greeting's methods").await?;
    let wanted = if credentials.is_some() {
        USERNAME_PASSWORD
    } else {
        NO_AUTHENTICATION
    };
    if !methods.contains(&wanted) {
        stream.write_all(&[5, NO_ACCEPTABLE]).await?;
        stream.flush().await?;
        return Err(if methods.is_empty() {
            anyhow!(
                "bad SOCKS handshake: the greeting offered no authentication methods; replied 0xFF"
            )
        } else {
            let offered: Vec<String> = methods.iter().map(|m| format!("{m:#04x}")).collect();
            let accepted = match credentials {
                Some(_) => "only 0x02 (user name and password: this listener requires credentials)",
                None => "only 0x00 (no authentication)",
            };
            anyhow!(
                "bad SOCKS handshake: no acceptable authentication method: the client offered [{}], sshtun accepts {accepted}; replied 0xFF",
                offered.join(", ")
            )
        });
    }
    stream.write_all(&[5, wanted]).await?;
    stream.flush().await?;
    let Some(credentials) = credentials else {
        return Ok(());
    };
    let [version, user_len] = read_array(stream, "reading the user name").await?;
    let mut user = vec![0u8; usize::from(user_len)];
    read_exact(stream, &mut user, "reading the user name").await?;
    let [password_len] = read_array(stream, "reading the password").await?;
    let mut password = vec![0u8; usize::from(password_len)];
    read_exact(stream, &mut password, "reading the password").await?;
    let refused = if version != SUBNEGOTIATION {
        Some(format!(
            "username/password version {version:#04x} (expected 0x01)"
        ))
    } else {
        match credentials.verify(&user, &password).await {
            Ok(()) => None,
            Err(e @ Refused::Wrong(_)) => Some(e.to_string()),
            Err(e @ Refused::Unusable(_)) => Some(e.to_string()),
        }
    };
    let status = if refused.is_some() { FAILURE } else { SUCCESS };
    stream.write_all(&[SUBNEGOTIATION, status]).await?;
    stream.flush().await?;
    match refused {
        Some(why) => Err(anyhow!("SOCKS5 authentication failed: {why}; replied 0x01")),
        None => Ok(()),
    }
}

async fn read_array<S: AsyncRead + Unpin, const N: usize>(
    stream: &mut S,
    what: &str,
) -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    read_exact(stream, &mut bytes, what).await?;
    Ok(bytes)
}

async fn read_exact<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    what: &str,
) -> Result<()> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(anyhow::Error::new(ClientLeft).context(format!(
                "bad SOCKS handshake: the client closed the connection mid-handshake ({what})"
            )))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("SOCKS handshake: {what}"))),
    }
}
