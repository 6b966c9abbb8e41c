use std::os::unix::fs::PermissionsExt;

use super::*;

/// `openssl passwd -6 -salt Rk0aTq3vX9 'correct horse'`
const ALICE: &str = "alice:$6$Rk0aTq3vX9$lE1KyMED3N7SooEVIB3izflV.kwl66eS2fhA/PGqEjW6iLsEB.AxmmvddnXyWV99lwhUFKw8P1TghBUi0.G82/";
/// `openssl passwd -5 -salt abcdEFGH 's3cret:with:colons'`
const BOB: &str = "bob:$5$abcdEFGH$EtDUOOKXqlLS6O0mzG2AZ8hEcLBYetYFdzrnvl3MToB";

fn file(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    f
}

#[tokio::test]
async fn openssl_hashes_verify_and_nothing_else_does() {
    let f = file(&format!("# proxy users\n\n{ALICE}\n{BOB}\n"));
    let creds = Credentials::load(f.path()).unwrap();
    creds.verify(b"alice", b"correct horse").await.unwrap();
    creds.verify(b"bob", b"s3cret:with:colons").await.unwrap();
    // Twice: the second answer comes from the remembered digest.
    creds.verify(b"alice", b"correct horse").await.unwrap();
    for (user, password) in [
        (&b"alice"[..], &b"correct horsf"[..]),
        (b"alice", b""),
        (b"Alice", b"correct horse"),
        (b"bob", b"correct horse"),
        (b"carol", b"correct horse"),
    ] {
        let err = creds.verify(user, password).await.unwrap_err();
        assert!(matches!(err, Refused::Wrong(_)), "{user:?}: {err}");
    }
    let long = vec![b'a'; MAX_FIELD + 1];
    assert!(creds.verify(b"alice", &long).await.is_err());
}

#[tokio::test]
async fn a_changed_file_is_read_again_and_a_broken_one_refuses_everyone() {
    let f = file(&format!("{ALICE}\n"));
    let creds = Credentials::load(f.path()).unwrap();
    creds.verify(b"alice", b"correct horse").await.unwrap();
    assert!(creds.verify(b"bob", b"s3cret:with:colons").await.is_err());

    std::fs::write(f.path(), format!("{BOB}\n")).unwrap();
    creds.verify(b"bob", b"s3cret:with:colons").await.unwrap();
    let err = creds.verify(b"alice", b"correct horse").await.unwrap_err();
    assert!(matches!(err, Refused::Wrong(_)), "alice was removed: {err}");

    std::fs::write(f.path(), "bob:plaintext-password\n").unwrap();
    let err = creds
        .verify(b"bob", b"s3cret:with:colons")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Refused::Unusable(why) if why.contains("unsupported hash")),
        "{err}"
    );
}

#[test]
fn bad_files_are_refused_naming_the_line() {
    for (text, why) in [
        ("alice\n", ":1: expected user:hash"),
        (
            &format!("{ALICE}\n{ALICE}\n"),
            ":2: user \"alice\" is listed twice",
        ),
        (
            "alice:$2y$05$abcdefghijklmnopqrstuu5Fg1Q0t0aEUVf4BUnV0b7DqLpoW6XyS\n",
            "unsupported hash",
        ),
        ("alice:$y$j9T$salt$hash\n", "unsupported hash"),
        ("alice:$6$salt$not*base64\n", "malformed hash"),
        (":$6$a$b\n", "1 to 255 bytes"),
        ("# nobody\n", "no users"),
    ] {
        let f = file(text);
        let err = format!("{:#}", Credentials::load(f.path()).unwrap_err());
        assert!(err.contains(why), "{text:?}: {err}");
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }
    let f = file(&format!("{ALICE}\n"));
    std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = format!("{:#}", Credentials::load(f.path()).unwrap_err());
    assert!(err.contains("writable by others"), "{err}");
    let err = format!(
        "{:#}",
        Credentials::load(Path::new("/nonexistent/users")).unwrap_err()
    );
    assert!(
        err.contains("could not read credentials file /nonexistent/users"),
        "{err}"
    );
}

#[test]
fn basic_authorization_values() {
    // "alice:correct horse"
    assert_eq!(
        parse_basic(b"Basic YWxpY2U6Y29ycmVjdCBob3JzZQ=="),
        Some((b"alice".to_vec(), b"correct horse".to_vec()))
    );
    // The password may contain colons; the user name may not.
    assert_eq!(
        parse_basic(b"basic  Ym9iOnMzY3JldDp3aXRoOmNvbG9ucw== "),
        Some((b"bob".to_vec(), b"s3cret:with:colons".to_vec()))
    );
    assert_eq!(parse_basic(b"Bearer abc"), None);
    assert_eq!(parse_basic(b"Basic !!!"), None);
    assert_eq!(parse_basic(b"Basic YWxpY2U="), None, "no colon");
    let long = format!("Basic {}", "QUFB".repeat(200));
    assert_eq!(
        parse_basic(long.as_bytes()),
        None,
        "longer than RFC 1929's fields"
    );
}
