//! The result table: one row per figure, one column per client, and each
//! sshtun column's ratio to ssh. Printed as Markdown so it can go in the README.

/// Which way a figure improves.
#[derive(Clone, Copy)]
pub enum Better {
    Higher,
    Lower,
}

pub struct Row {
    label: String,
    unit: &'static str,
    better: Better,
    values: Vec<Option<f64>>,
    note: String,
}

pub struct Table {
    clients: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    pub fn new(clients: Vec<String>) -> Table {
        Table {
            clients,
            rows: Vec::new(),
        }
    }

    /// Adds a row; `values` are in client order, None where none was measured.
    pub fn add(
        &mut self,
        label: &str,
        unit: &'static str,
        better: Better,
        values: Vec<Option<f64>>,
    ) {
        self.rows.push(Row {
            label: label.to_string(),
            unit,
            better,
            values,
            note: String::new(),
        });
    }

    /// Adds a note to the last row.
    pub fn note(&mut self, note: &str) {
        if let Some(row) = self.rows.last_mut() {
            if !row.note.is_empty() {
                row.note.push_str("; ");
            }
            row.note.push_str(note);
        }
    }

    /// The column index of client `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.clients.iter().position(|c| c == name)
    }

    pub fn print(&self) {
        let ssh = self.column("ssh");
        let mut head = vec!["figure".to_string()];
        for (i, c) in self.clients.iter().enumerate() {
            head.push(c.clone());
            if ssh.is_some() && Some(i) != ssh {
                head.push(format!("{c}/ssh"));
            }
        }
        head.push("notes".into());
        println!("| {} |", head.join(" | "));
        println!("|{}", "---|".repeat(head.len()));
        for row in &self.rows {
            let arrow = match row.better {
                Better::Higher => "↑",
                Better::Lower => "↓",
            };
            let mut cells = vec![format!("{} ({}, {arrow})", row.label, row.unit)];
            for (i, v) in row.values.iter().enumerate() {
                cells.push(v.map(format_value).unwrap_or_else(|| "—".into()));
                if let Some(s) = ssh.filter(|s| *s != i) {
                    let ratio = match (v, row.values[s]) {
                        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
                        _ => "—".into(),
                    };
                    cells.push(ratio);
                }
            }
            cells.push(row.note.clone());
            println!("| {} |", cells.join(" | "));
        }
    }
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The median of some samples (None when there are none).
pub fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| !x.is_nan());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    Some(xs[xs.len() / 2])
}
