//! A minimal SOCKS5 client (no authentication) that returns the server's reply
//! code, so tests can check error replies as well as working connections.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::servers::connect;

pub const CMD_CONNECT: u8 = 0x01;
pub const CMD_BIND: u8 = 0x02;
pub const CMD_UDP_ASSOCIATE: u8 = 0x03;
pub const REP_SUCCEEDED: u8 = 0x00;
pub const REP_NOT_ALLOWED: u8 = 0x02;
pub const REP_HOST_UNREACHABLE: u8 = 0x04;
pub const REP_CONNECTION_REFUSED: u8 = 0x05;
pub const REP_COMMAND_NOT_SUPPORTED: u8 = 0x07;

/// Where a SOCKS request asks to go.
#[derive(Debug, Clone)]
pub enum SocksTarget {
    Ip(SocketAddr),
    Domain(String, u16),
}

impl From<SocketAddr> for SocksTarget {
    fn from(addr: SocketAddr) -> Self {
        SocksTarget::Ip(addr)
    }
}

/// Greets the proxy at `proxy` and sends `cmd` for `target`. Returns the stream
/// (positioned after the reply) and the reply code (REP).
pub fn socks_request(
    proxy: SocketAddr,
    cmd: u8,
    target: &SocksTarget,
) -> io::Result<(TcpStream, u8)> {
    let mut stream = connect(proxy);
    stream.write_all(&[0x05, 0x01, 0x00])?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice)?;
    if choice != [0x05, 0x00] {
        return Err(io::Error::other(format!(
            "proxy chose method {choice:02x?}"
        )));
    }
    let mut req = vec![0x05, cmd, 0x00];
    let port = match target {
        SocksTarget::Ip(SocketAddr::V4(a)) => {
            req.push(0x01);
            req.extend_from_slice(&a.ip().octets());
            a.port()
        }
        SocksTarget::Ip(SocketAddr::V6(a)) => {
            req.push(0x04);
            req.extend_from_slice(&a.ip().octets());
            a.port()
        }
        SocksTarget::Domain(name, port) => {
            req.push(0x03);
            req.push(name.len() as u8);
            req.extend_from_slice(name.as_bytes());
            *port
        }
    };
    req.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&req)?;
    let rep = read_reply(&mut stream)?;
    Ok((stream, rep))
}

/// `socks_request` with CONNECT.
pub fn socks_connect(
    proxy: SocketAddr,
    target: impl Into<SocksTarget>,
) -> io::Result<(TcpStream, u8)> {
    socks_request(proxy, CMD_CONNECT, &target.into())
}

/// Reads a reply (VER REP RSV ATYP BND.ADDR BND.PORT) and returns REP.
fn read_reply(stream: &mut TcpStream) -> io::Result<u8> {
    let mut head = [0u8; 4];
    stream.read_exact(&mut head)?;
    if head[0] != 0x05 {
        return Err(io::Error::other(format!(
            "bad reply version {:#x}",
            head[0]
        )));
    }
    let addr_len = match head[3] {
        0x01 => 4,
        0x04 => 16,
        0x03 => {
            let mut n = [0u8; 1];
            stream.read_exact(&mut n)?;
            n[0] as usize
        }
        other => return Err(io::Error::other(format!("bad reply ATYP {other:#x}"))),
    };
    let mut rest = vec![0u8; addr_len + 2];
    stream.read_exact(&mut rest)?;
    Ok(head[1])
}

/// SOCKS4 reply codes.
pub const SOCKS4_GRANTED: u8 = 0x5A;
pub const SOCKS4_REJECTED: u8 = 0x5B;

/// Sends a SOCKS4 CONNECT to an IPv4 `target`, or with `domain` a SOCKS4a
/// CONNECT (IP 0.0.0.1, then the name). Returns the stream and the reply code.
pub fn socks4_connect(
    proxy: SocketAddr,
    target: SocketAddr,
    domain: Option<&str>,
) -> io::Result<(TcpStream, u8)> {
    let mut stream = connect(proxy);
    let mut req = vec![0x04, CMD_CONNECT];
    req.extend_from_slice(&target.port().to_be_bytes());
    match (domain, target) {
        (Some(_), _) => req.extend_from_slice(&[0, 0, 0, 1]),
        (None, SocketAddr::V4(a)) => req.extend_from_slice(&a.ip().octets()),
        (None, SocketAddr::V6(_)) => return Err(io::Error::other("SOCKS4 has no IPv6")),
    }
    req.extend_from_slice(b"sshtun-test\0");
    if let Some(name) = domain {
        req.extend_from_slice(name.as_bytes());
        req.push(0);
    }
    stream.write_all(&req)?;
    let mut reply = [0u8; 8];
    stream.read_exact(&mut reply)?;
    if reply[0] != 0 {
        return Err(io::Error::other(format!("bad SOCKS4 reply {reply:02x?}")));
    }
    Ok((stream, reply[1]))
}
