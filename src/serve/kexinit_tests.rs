use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VERSION: &[u8] = b"SSH-2.0-PuTTY_Release_0.78\r\n";

/// A KEXINIT packet (unencrypted framing: length, padding length, payload,
/// padding) with these ten name-lists.
fn packet(lists: &[&str; 10]) -> Vec<u8> {
    let mut payload = vec![SSH_MSG_KEXINIT];
    payload.extend([7u8; 16]);
    for list in lists {
        payload.extend((list.len() as u32).to_be_bytes());
        payload.extend(list.as_bytes());
    }
    payload.extend([0, 0, 0, 0, 0]);
    let padding = 8 - (payload.len() + 5) % 8 + 4;
    let mut out = ((payload.len() + padding + 1) as u32)
        .to_be_bytes()
        .to_vec();
    out.push(padding as u8);
    out.extend(payload);
    out.extend(vec![0u8; padding]);
    out
}

const LISTS: [&str; 10] = [
    "ext-info-c,sntrup761x25519-sha512,curve25519-sha256,kex-strict-c-v00@openssh.com",
    "rsa-sha2-512,ssh-ed25519",
    "aes128-ctr,aes128-gcm@openssh.com",
    "aes128-ctr",
    "umac-64,hmac-sha2-256",
    "hmac-sha2-256",
    "zlib@openssh.com,none",
    "none",
    "",
    "",
];

fn offered() -> Offered {
    Offered {
        kex: vec!["curve25519-sha256".into(), "mlkem768x25519-sha256".into()],
        host_key: vec!["ssh-ed25519".into()],
        cipher: vec!["aes128-gcm@openssh.com".into(), "aes128-ctr".into()],
        mac: vec!["hmac-sha2-256".into()],
        compression: vec!["none".into()],
    }
}

fn hello() -> Vec<u8> {
    let mut bytes = VERSION.to_vec();
    bytes.extend(packet(&LISTS));
    bytes
}

const LINE: &str = "client SSH-2.0-PuTTY_Release_0.78: kex curve25519-sha256, host key ssh-ed25519, \
                    cipher aes128-ctr, MAC hmac-sha2-256, compression none";

#[test]
fn the_first_client_choice_the_server_offers_wins() {
    assert_eq!(parse(&hello(), &offered()), Parse::Done(LINE.into()));

    // An AEAD cipher has no MAC of its own, as ssh -v says.
    let mut lists = LISTS;
    lists[2] = "aes128-gcm@openssh.com,aes128-ctr";
    let mut bytes = VERSION.to_vec();
    bytes.extend(packet(&lists));
    let Parse::Done(line) = parse(&bytes, &offered()) else {
        panic!("no line for {bytes:?}");
    };
    assert!(
        line.contains("cipher aes128-gcm@openssh.com, MAC <implicit>,"),
        "{line}"
    );

    // Nothing in common is said, never a name from the client.
    lists[4] = "hmac-md5,evil\u{1b}[2J";
    lists[2] = "aes256-cbc";
    let mut bytes = VERSION.to_vec();
    bytes.extend(packet(&lists));
    let Parse::Done(line) = parse(&bytes, &offered()) else {
        panic!("no line for {bytes:?}");
    };
    assert!(
        line.contains("cipher (none in common), MAC (none in common),"),
        "{line}"
    );
}

#[test]
fn every_prefix_asks_for_more_than_it_has() {
    let whole = hello();
    for len in 0..whole.len() {
        match parse(&whole[..len], &offered()) {
            Parse::Need(need) => assert!(need > len && need <= whole.len(), "{len}: {need}"),
            other => panic!("{len} bytes: {other:?}"),
        }
    }
}

#[test]
fn bytes_that_are_not_ssh_say_nothing() {
    let offered = offered();
    assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n", &offered), Parse::NotSsh);
    assert_eq!(
        parse(&[b'S'; VERSION_MAX], &offered),
        Parse::NotSsh,
        "no newline"
    );
    let mut long = b"SSH-2.0-".to_vec();
    long.extend([b'x'; VERSION_MAX]);
    long.push(b'\n');
    assert_eq!(parse(&long, &offered), Parse::NotSsh, "too long a line");

    let mut huge = VERSION.to_vec();
    huge.extend(u32::MAX.to_be_bytes());
    assert_eq!(parse(&huge, &offered), Parse::NotSsh, "a 4 GiB packet");

    let whole = packet(&LISTS);
    let mut bad = VERSION.to_vec();
    bad.extend(&whole[..4]);
    bad.push(255); // padding longer than the packet
    bad.extend(&whole[5..]);
    assert_eq!(parse(&bad, &offered), Parse::NotSsh, "padding");

    let mut bad = VERSION.to_vec();
    bad.extend(&whole);
    bad[VERSION.len() + 5] = 21; // NEWKEYS, not KEXINIT
    assert_eq!(parse(&bad, &offered), Parse::NotSsh, "message number");

    let mut bad = VERSION.to_vec();
    bad.extend(&whole);
    let first_list = VERSION.len() + 5 + KEXINIT_HEADER;
    bad[first_list..first_list + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        parse(&bad, &offered),
        Parse::NotSsh,
        "a list longer than the packet"
    );
}

/// Every byte of a valid hello replaced by each of a few values: whatever
/// the result, no panic, and a Need is always for more than was given.
#[test]
fn mangled_hellos_never_panic() {
    let whole = hello();
    let offered = offered();
    for at in 0..whole.len() {
        for value in [0u8, 1, 0x0a, 0x14, 0x7f, 0x80, 0xff] {
            let mut bytes = whole.clone();
            bytes[at] = value;
            for len in [at + 1, bytes.len()] {
                if let Parse::Need(need) = parse(&bytes[..len], &offered) {
                    assert!(need > len, "at {at} = {value}: need {need} of {len}");
                }
            }
        }
    }
}

#[test]
fn offered_follows_russhs_kexinit() {
    let seed = [9u8; 32];
    let key = russh::keys::PrivateKey::from(
        russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed),
    );
    let config = russh::server::Config {
        keys: vec![key],
        ..Default::default()
    };
    let offered = Offered::of(&config);
    assert_eq!(offered.host_key, ["ssh-ed25519"]);
    assert!(!offered.kex.is_empty());
    for name in KEX_EXTENSIONS {
        assert!(
            !offered.kex.iter().any(|k| k == name),
            "{name} in {:?}",
            offered.kex
        );
    }
    assert!(
        offered.cipher.iter().any(|c| c == "aes128-ctr"),
        "{:?}",
        offered.cipher
    );
}

/// Through a stream: bytes pass unchanged, however they are split, and
/// the looking stops once the KEXINIT is in (or at the first sign it is not
/// SSH), after which reads go straight through.
#[tokio::test]
async fn sniff_passes_bytes_through_and_stops_looking() {
    let mut sent = hello();
    sent.extend((0..200_000u32).map(|i| (i * 7) as u8));
    for chunk in [1, 3, 64, 4096] {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let mut sniff = Sniff::watching(server, offered(), tracing::Span::none());
        let writer = {
            let sent = sent.clone();
            tokio::spawn(async move {
                for piece in sent.chunks(chunk) {
                    client.write_all(piece).await.unwrap();
                }
            })
        };
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk];
        while got.len() < hello().len() {
            let n = sniff.read(&mut buf).await.unwrap();
            got.extend(&buf[..n]);
        }
        assert!(
            !sniff.is_watching(),
            "still watching after the KEXINIT ({chunk})"
        );
        sniff.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got, sent, "chunks of {chunk}");
    }

    let (mut client, server) = tokio::io::duplex(1 << 20);
    let mut sniff = Sniff::watching(server, offered(), tracing::Span::none());
    client.write_all(&[b'A'; VERSION_MAX + 10]).await.unwrap();
    let mut buf = vec![0u8; VERSION_MAX + 10];
    sniff.read_exact(&mut buf).await.unwrap();
    assert!(!sniff.is_watching(), "an endless first line is given up");
}
