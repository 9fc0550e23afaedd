//! stdout formats: aligned tables for people, JSON for programs.

use serde::Serialize;
use serde_json::ser::PrettyFormatter;
use serde_json::Value;

/// Columns are separated by three spaces; the last one is not padded.
const GAP: usize = 3;

/// JSON on stdout: one line when `compact`, else indented by four spaces as cnitool prints results.
pub fn print_json(value: &Value, compact: bool) {
    println!("{}", json_text(value, compact));
}

fn json_text(value: &Value, compact: bool) -> String {
    if compact {
        return value.to_string();
    }
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(b"    "));
    // Serialising a Value into memory cannot fail.
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => value.to_string(),
    }
}

/// A table with a header row; missing cells are empty.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, width) in widths.iter().enumerate() {
            let cell = row.get(i).map_or("", String::as_str);
            if i + 1 == widths.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:width$}", width = width + GAP));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A list cell: comma-joined, "-" when empty.
pub fn joined(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec![
                "net1".to_string(),
                "1.0.0".to_string(),
                "bridge,portmap".to_string(),
            ],
            vec![
                "a-longer-name".to_string(),
                "0.4.0".to_string(),
                "".to_string(),
            ],
        ];
        assert_eq!(
            table(&["NAME", "VERSION", "PLUGIN"], &rows),
            "NAME            VERSION   PLUGIN\n\
             net1            1.0.0     bridge,portmap\n\
             a-longer-name   0.4.0\n"
        );
        assert_eq!(table(&["NAME"], &[]), "NAME\n");
    }

    #[test]
    fn json_forms() {
        let value = serde_json::json!({"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]});
        assert_eq!(
            json_text(&value, true),
            r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}"#
        );
        assert_eq!(
            json_text(&value, false),
            "{\n    \"cniVersion\": \"1.0.0\",\n    \"ips\": [\n        {\n            \"address\": \"10.0.0.2/24\"\n        }\n    ]\n}"
        );
        assert_eq!(joined(&[]), "-");
        assert_eq!(joined(&["a".into(), "b".into()]), "a,b");
    }
}
