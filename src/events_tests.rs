use super::*;

#[test]
fn events_serialise_with_stable_names() {
    let cases = [
        (
            Event::ForwardReady {
                tunnel: "t".into(),
                kind: "local",
                spec: "-L 0:db:5432".into(),
                listen: "127.0.0.1:40000".into(),
                target: "db:5432".into(),
            },
            r#"{"event":"forward_ready","tunnel":"t","kind":"local","spec":"-L 0:db:5432","listen":"127.0.0.1:40000","target":"db:5432"}"#,
        ),
        (
            Event::Ready {
                tunnel: "t".into(),
                forwards: 2,
                pending: 1,
            },
            r#"{"event":"ready","tunnel":"t","forwards":2,"pending":1}"#,
        ),
        (
            Event::Exit {
                code: 255,
                error: Some("x".into()),
            },
            r#"{"event":"exit","code":255,"error":"x"}"#,
        ),
        (
            Event::Reconnecting {
                tunnel: "t".into(),
                attempt: 3,
                delay_ms: 4000,
                error: "refused".into(),
            },
            r#"{"event":"reconnecting","tunnel":"t","attempt":3,"delay_ms":4000,"error":"refused"}"#,
        ),
    ];
    for (event, want) in cases {
        assert_eq!(serde_json::to_string(&event).unwrap(), want);
    }
}

/// What a `--ready-fd` file received after `steps`.
fn readiness_after(expect: Option<&[&str]>, steps: &[(&str, bool)]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    let events = Events::new(false, Some(file.reopen().unwrap()));
    if let Some(names) = expect {
        events.expect_tunnels(names.iter().map(|n| n.to_string()));
    }
    for (tunnel, ready) in steps {
        if *ready {
            events.emit(Event::Ready {
                tunnel: tunnel.to_string(),
                forwards: 1,
                pending: 0,
            });
        } else {
            events.tunnel_gone(tunnel);
        }
    }
    std::fs::read_to_string(file.path()).unwrap()
}

#[test]
fn readiness_waits_for_every_expected_tunnel() {
    // One tunnel (the CLI): the first ready, once.
    assert_eq!(
        readiness_after(None, &[("t", true), ("t", true)]),
        "READY\n"
    );
    let both: &[&str] = &["a", "b"];
    assert_eq!(readiness_after(Some(both), &[("a", true), ("a", true)]), "");
    assert_eq!(
        readiness_after(Some(both), &[("a", true), ("b", true)]),
        "READY\n"
    );
    // A tunnel that gave up no longer holds readiness back...
    assert_eq!(
        readiness_after(Some(both), &[("b", false), ("a", true)]),
        "READY\n"
    );
    assert_eq!(
        readiness_after(Some(both), &[("a", true), ("b", false)]),
        "READY\n"
    );
    // ...but nothing is ready when every tunnel gave up.
    assert_eq!(
        readiness_after(Some(both), &[("a", false), ("b", false)]),
        ""
    );
}
