//! `leaksweep schema`: the JSON Schema (draft 7) of the records scripts
//! read, a finding (`json`, `jsonl`) and a group record (`--group-by
//! secret`), written from the same field lists as the writers so that a
//! test can hold the real output against them.

use serde_json::{json, Value};

use crate::finding::Kind;

const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

fn kinds() -> Value {
    json!(Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>())
}

fn confidence() -> Value {
    json!({"enum": ["low", "medium", "high"]})
}

fn fingerprint() -> Value {
    json!({"type": "string", "pattern": "^[0-9a-f]{64}$",
           "description": "lowercase hex SHA-256 of the exact secret bytes"})
}

/// One finding, as `json` (an array of them) and `jsonl` (one a line)
/// write it.
pub fn finding() -> Value {
    let count = json!({"type": ["integer", "null"], "minimum": 0});
    json!({
        "$schema": DRAFT,
        "title": "leaksweep finding",
        "type": "object",
        "additionalProperties": false,
        "required": ["path", "member", "har", "line", "column", "offset", "rule", "kind",
                     "confidence", "secret", "fingerprint", "context", "expires", "time", "host"],
        "properties": {
            "path": {"type": "string", "description": "the input as named or walked; '-' (or --label) for stdin"},
            "member": {"type": ["string", "null"], "description": "the archive member, when in an archive"},
            "har": {
                "description": "where in a HAR capture, when in one",
                "oneOf": [
                    {"type": "null"},
                    {"type": "object", "additionalProperties": false,
                     "required": ["entry", "field"],
                     "properties": {
                        "entry": {"type": ["integer", "null"], "minimum": 0},
                        "field": {"type": "string"}}}
                ]
            },
            "line": {"type": ["integer", "null"], "minimum": 1},
            "column": {"type": ["integer", "null"], "minimum": 1},
            "offset": count,
            "rule": {"type": "string"},
            "kind": {"enum": kinds()},
            "confidence": confidence(),
            "secret": {"type": "string", "description": "masked unless --show-secrets"},
            "fingerprint": fingerprint(),
            "context": {"type": "string"},
            "expires": {"type": ["string", "null"], "description": "RFC 3339, where the token says"},
            "time": {"type": ["string", "null"], "description": "RFC 3339, when the line holding the secret was written, by its own timestamp"},
            "host": {"type": ["string", "null"], "description": "the host a syslog line holding the secret names"}
        }
    })
}

/// One record of `--group-by secret` (`json`: an array of them; `jsonl`:
/// one a line).
pub fn group() -> Value {
    let names = json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true});
    json!({
        "$schema": DRAFT,
        "title": "leaksweep group record",
        "type": "object",
        "additionalProperties": false,
        "required": ["fingerprint", "rule", "kind", "confidence", "secret", "count", "files",
                     "hosts", "first_seen", "last_seen"],
        "properties": {
            "fingerprint": fingerprint(),
            "rule": {"type": "string"},
            "kind": {"enum": kinds()},
            "confidence": confidence(),
            "secret": {"type": "string"},
            "count": {"type": "integer", "minimum": 1},
            "files": names,
            "hosts": names,
            "first_seen": {"type": ["string", "null"]},
            "last_seen": {"type": ["string", "null"]}
        }
    })
}
