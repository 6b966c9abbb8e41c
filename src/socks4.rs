//! SOCKS4 and SOCKS4a, the older protocol ssh's -D also speaks: one request
//! (`04 CMD PORT IP USERID\0 [DOMAIN\0]`), one 8-byte reply. 4a is an IP of
//! 0.0.0.x (x != 0) followed by a host name for the server to resolve. The user
//! id is read and ignored. [`crate::socks`] dispatches here on the version byte.

use std::net::Ipv4Addr;

use anyhow::{Result, anyhow, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The version byte that starts a SOCKS4 request.
pub const VERSION: u8 = 0x04;
const CONNECT: u8 = 0x01;
/// Reply codes: request granted, request rejected or failed.
pub const GRANTED: u8 = 0x5A;
pub const REJECTED: u8 = 0x5B;
/// Longest user id or host name accepted (ssh allows 256 bytes for each).
const MAX_FIELD: usize = 255;

/// A CONNECT request: the host (an IPv4 address or a 4a name) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request4 {
    pub host: String,
    pub port: u16,
}

/// Reads one request (the caller enforces the handshake timeout). Anything but
/// CONNECT gets a rejection reply and an error.
pub async fn read_request<S>(stream: &mut S) -> Result<Request4>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        bail!("not a SOCKS4 request (version {:#04x})", head[0]);
    }
    let port = u16::from_be_bytes([head[2], head[3]]);
    let ip = Ipv4Addr::new(head[4], head[5], head[6], head[7]);
    read_field(stream, "user id").await?;
    if head[1] != CONNECT {
        reply(stream, REJECTED).await.ok();
        bail!(
            "SOCKS4 command {:#04x} is not supported (only CONNECT)",
            head[1]
        );
    }
    let [a, b, c, d] = ip.octets();
    let host = if a == 0 && b == 0 && c == 0 && d != 0 {
        let name = read_field(stream, "host name").await?;
        let name =
            String::from_utf8(name).map_err(|_| anyhow!("SOCKS4a host name is not UTF-8"))?;
        if name.is_empty() {
            reply(stream, REJECTED).await.ok();
            bail!("SOCKS4a request with an empty host name");
        }
        // The same rules as SOCKS5 domain names: never sent to the server.
        if let Err(why) = crate::spec::validate_host(&name) {
            reply(stream, REJECTED).await.ok();
            bail!("bad SOCKS4a request: {why}; replied 0x5B");
        }
        name
    } else {
        ip.to_string()
    };
    Ok(Request4 { host, port })
}

/// Reads a NUL-terminated field of at most [`MAX_FIELD`] bytes.
async fn read_field<S: AsyncRead + Unpin>(stream: &mut S, what: &str) -> Result<Vec<u8>> {
    let mut field = Vec::new();
    loop {
        let byte = stream.read_u8().await?;
        if byte == 0 {
            return Ok(field);
        }
        if field.len() == MAX_FIELD {
            bail!("SOCKS4 {what} longer than {MAX_FIELD} bytes");
        }
        field.push(byte);
    }
}

/// Sends the 8-byte reply (version 0, code, port and address zero, as ssh does).
pub async fn reply<S: AsyncWrite + Unpin>(stream: &mut S, code: u8) -> std::io::Result<()> {
    stream.write_all(&[0, code, 0, 0, 0, 0, 0, 0]).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> (Result<Request4>, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(bytes).await.unwrap();
        drop(client.shutdown().await);
        let result = read_request(&mut server).await;
        drop(server);
        let mut replied = Vec::new();
        client.read_to_end(&mut replied).await.unwrap();
        (result, replied)
    }

    #[tokio::test]
    async fn socks4_and_4a_requests() {
        let (r, _) = parse(b"\x04\x01\x00\x50\x7f\x00\x00\x01alice\x00").await;
        assert_eq!(
            r.unwrap(),
            Request4 {
                host: "127.0.0.1".into(),
                port: 80
            }
        );
        let (r, _) = parse(b"\x04\x01\x1f\x90\x00\x00\x00\x01\x00db.internal\x00").await;
        assert_eq!(
            r.unwrap(),
            Request4 {
                host: "db.internal".into(),
                port: 8080
            }
        );
    }

    #[tokio::test]
    async fn bad_requests_are_errors() {
        // BIND is rejected with 0x5B.
        let (r, replied) = parse(b"\x04\x02\x00\x50\x7f\x00\x00\x01\x00").await;
        assert!(format!("{:#}", r.unwrap_err()).contains("not supported"));
        assert_eq!(replied, [0, REJECTED, 0, 0, 0, 0, 0, 0]);
        // A user id without its NUL, longer than the bound.
        let mut long = b"\x04\x01\x00\x50\x7f\x00\x00\x01".to_vec();
        long.extend(std::iter::repeat_n(b'a', 300));
        let (r, _) = parse(&long).await;
        assert!(format!("{:#}", r.unwrap_err()).contains("longer than 255"));
        // Truncated header, empty 4a name.
        assert!(parse(b"\x04\x01\x00").await.0.is_err());
        let (r, replied) = parse(b"\x04\x01\x00\x50\x00\x00\x00\x07\x00\x00").await;
        assert!(r.is_err());
        assert_eq!(replied[1], REJECTED);
    }
}
