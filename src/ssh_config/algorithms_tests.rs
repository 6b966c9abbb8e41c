use super::*;

const DEF: &str = "a,b,c-1,c-2";

#[test]
fn prefixes() {
    let cases: [(Option<&str>, &[&str]); 9] = [
        (None, &["a", "b", "c-1", "c-2"]),
        (Some(""), &["a", "b", "c-1", "c-2"]),
        (Some("+z"), &["a", "b", "c-1", "c-2", "z"]),
        (Some("+b,z"), &["a", "b", "c-1", "c-2", "z"]),
        (Some("-c-*"), &["a", "b"]),
        (Some("-b,a"), &["c-1", "c-2"]),
        (Some("^c-2"), &["c-2", "a", "b", "c-1"]),
        (Some("^z,a"), &["z", "a", "b", "c-1", "c-2"]),
        (Some("z,a"), &["z", "a"]),
    ];
    for (spec, want) in cases {
        assert_eq!(resolve(spec, DEF, None).unwrap(), want, "{spec:?}");
    }
    assert!(resolve(Some("-*"), DEF, None).is_err());
}

#[test]
fn patterns_expand_against_supported() {
    let supported = "a,b,c-1,c-2,c-3,z";
    let got = resolve(Some("c-*,a"), DEF, Some(supported)).unwrap();
    assert_eq!(got, ["c-1", "c-2", "c-3", "a"]);
    let got = resolve(Some("+unknown,z"), DEF, Some(supported)).unwrap();
    assert_eq!(got, ["a", "b", "c-1", "c-2", "z"]);
    assert!(resolve(Some("nothing"), DEF, Some(supported)).is_err());
}

#[test]
fn ssh_92_example() {
    let got = resolve(Some("^curve25519-sha256"), DEFAULT_KEX, None).unwrap();
    assert_eq!(got[0], "curve25519-sha256");
    assert_eq!(got[1], "sntrup761x25519-sha512");
    assert_eq!(got.iter().filter(|n| *n == "curve25519-sha256").count(), 1);
}
