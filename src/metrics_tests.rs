use super::*;
use crate::forward::set::ForwardStatus;
use crate::forward::stats::StatsSnapshot;

#[test]
fn exposition_text_has_one_family_per_metric() {
    let tunnels = [TunnelStatus {
        name: "d\"b".into(),
        destination: "u@h:22".into(),
        state: State::Degraded,
        detail: None,
        sessions_up: 1,
        sessions: 1,
        reconnects: 2,
        last_error: None,
        forwards: vec![ForwardStatus {
            spec: "-L 8080:db:80".into(),
            kind: "local",
            listen: vec!["127.0.0.1:8080".into()],
            state: "up",
            error: None,
            proxy: None,
            stats: StatsSnapshot {
                active: 1,
                total: 5,
                failed: 1,
                bytes_out: 100,
                bytes_in: 2000,
            },
        }],
    }];
    let text = render(&tunnels);
    for line in [
        "sshtun_tunnel_up{tunnel=\"d\\\"b\"} 0",
        "sshtun_tunnel_state{tunnel=\"d\\\"b\",state=\"degraded\"} 1",
        "sshtun_tunnel_state{tunnel=\"d\\\"b\",state=\"up\"} 0",
        "sshtun_tunnel_reconnects_total{tunnel=\"d\\\"b\"} 2",
        "# TYPE sshtun_forward_bytes_total counter",
        "sshtun_forward_bytes_total{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",direction=\"in\"} 2000",
        "sshtun_forward_connections_total{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\"} 5",
        "sshtun_forward_state{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",state=\"up\"} 1",
        "sshtun_forward_state{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",state=\"pending\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
    assert_eq!(types, 12);
}
