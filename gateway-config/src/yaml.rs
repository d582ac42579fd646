//! A small YAML writer for JSON values, with comments.
//!
//! Envoy reads YAML or JSON; people read YAML, and the gateway's config is read by
//! people: the committed examples are how a newcomer learns what the gateway does. Its
//! comments are the reason this writer exists. The YAML crates that are kept (the
//! serde_yaml forks, yaml-rust2) serialize data only, with no way to put a comment
//! before a key, and adding comments to their output afterwards would mean parsing it
//! back. So the typed config is serialized to a `serde_json::Value` (in field order)
//! and written here: block style, two-space indents, strings quoted only where YAML
//! would misread them, and a `# comment` line before the first occurrence of every key
//! that has one in the `comments` table.
//!
//! What it writes is checked the other way round: a test reads every rendered config
//! back with `serde_yaml_ng` and compares it with the config's own JSON form.

use std::collections::HashSet;

use serde_json::Value;

/// Writes `value` (a map at the top) as YAML, with the comment `comments(key)` returns
/// before each key.
pub fn to_yaml(value: &Value, comments: &dyn Fn(&str) -> Option<&'static str>) -> String {
    let mut out = String::new();
    let mut writer = Writer {
        comments,
        commented: HashSet::new(),
    };
    writer.write_value(&mut out, value, 0);
    out
}

struct Writer<'a> {
    comments: &'a dyn Fn(&str) -> Option<&'static str>,
    /// Keys already explained: a comment is written once, not on every route.
    commented: HashSet<String>,
}

impl Writer<'_> {
    fn write_value(&mut self, out: &mut String, value: &Value, indent: usize) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if let Some(comment) =
                        (self.comments)(key).filter(|_| self.commented.insert(key.clone()))
                    {
                        for line in comment.lines() {
                            out.push_str(&format!("{:indent$}# {line}\n", ""));
                        }
                    }
                    out.push_str(&format!("{:indent$}{}:", "", scalar_string(key)));
                    match value {
                        Value::Object(inner) if !inner.is_empty() => {
                            out.push('\n');
                            self.write_value(out, value, indent + 2);
                        }
                        Value::Array(items) if !items.is_empty() => {
                            out.push('\n');
                            self.write_value(out, value, indent);
                        }
                        _ => {
                            out.push(' ');
                            out.push_str(&inline(value));
                            out.push('\n');
                        }
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(map) if !map.is_empty() => {
                            let mut nested = String::new();
                            self.write_value(&mut nested, item, indent + 2);
                            let mut dashed = false;
                            for line in nested.lines() {
                                let is_comment = line.trim_start().starts_with('#');
                                if !dashed && !is_comment {
                                    out.push_str(&format!(
                                        "{:indent$}- {}\n",
                                        "",
                                        &line[indent + 2..]
                                    ));
                                    dashed = true;
                                } else if !dashed {
                                    out.push_str(&format!("{:indent$}{}\n", "", line.trim_start()));
                                } else {
                                    out.push_str(line);
                                    out.push('\n');
                                }
                            }
                        }
                        _ => out.push_str(&format!("{:indent$}- {}\n", "", inline(item))),
                    }
                }
            }
            scalar => {
                out.push_str(&format!("{:indent$}{}\n", "", inline(scalar)));
            }
        }
    }
}

/// A scalar, or an empty map or list, on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(value) => value.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => scalar_string(text),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// A string as a plain scalar when YAML reads it back as the same string, else quoted
/// (a JSON string is a valid YAML double-quoted scalar).
fn scalar_string(text: &str) -> String {
    const AMBIGUOUS: &[&str] = &[
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
    ];
    let safe_char = |c: char| c.is_ascii_alphanumeric() || "_./%:-()[]{}, @'\"*+=".contains(c);
    let plain = !AMBIGUOUS.contains(&text.to_ascii_lowercase().as_str())
        && text.chars().all(safe_char)
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '.')
        && !text.ends_with(' ')
        && !text.ends_with(':')
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains(['[', ']', '{', '}', ',', '"', '\'', '*'])
        && text.parse::<f64>().is_err()
        && !text.starts_with("0x");
    if plain {
        text.to_owned()
    } else {
        Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn none(_: &str) -> Option<&'static str> {
        None
    }

    #[test]
    fn maps_lists_and_scalars_are_written_in_block_style() {
        let value = json!({
            "admin": {"address": {"port_value": 9901}},
            "listeners": [{"name": "gateway", "alpn": ["h2", "http/1.1"]}, "plain"],
            "empty": {},
            "none": [],
        });
        let expected = "\
admin:
  address:
    port_value: 9901
listeners:
- name: gateway
  alpn:
  - h2
  - http/1.1
- plain
empty: {}
none: []
";
        assert_eq!(to_yaml(&value, &none), expected);
    }

    #[test]
    fn strings_yaml_would_misread_are_quoted() {
        for (text, written) in [
            ("@type", "\"@type\""),
            ("y", "\"y\""),
            ("true", "\"true\""),
            ("1.5", "\"1.5\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("%REQ(X-REQUEST-ID)%", "\"%REQ(X-REQUEST-ID)%\""),
            (
                "type.googleapis.com/envoy.config.Foo",
                "type.googleapis.com/envoy.config.Foo",
            ),
            ("/superstar.v1.SongProducer/", "/superstar.v1.SongProducer/"),
            ("5s", "5s"),
        ] {
            assert_eq!(scalar_string(text), written, "{text:?}");
        }
    }

    #[test]
    fn comments_precede_their_keys_even_in_lists() {
        let value = json!({"routes": [{"timeout": "0s", "name": "jam"}]});
        let comments = |key: &str| (key == "timeout").then_some("streams must not be cut");
        assert_eq!(
            to_yaml(&value, &comments),
            "routes:\n# streams must not be cut\n- timeout: 0s\n  name: jam\n"
        );
    }
}
