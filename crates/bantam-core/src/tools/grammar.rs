//! The grammar that makes calls parse: `<tool_call>` blocks whose JSON is a `name` of one
//! of the tools and `arguments` valid under that tool's schema.

use serde_json::{json, Map, Value};

use super::{validate, Tool, ToolChoice, ToolError, CALL_CLOSE, CALL_OPEN};
use crate::engine::{json_schema_grammar, Constraint};

/// The constraint for a request with `tools`: none for `ToolChoice::None` (or no tools
/// under `Auto`), a lazy grammar that starts at `<tool_call>` for `Auto`, and a grammar
/// that must start with a call for `Required` and `Named`. `parallel` allows more than one.
pub fn constraint(tools: &[Tool], choice: &ToolChoice, parallel: bool) -> Result<Option<Constraint>, ToolError> {
    validate(tools)?;
    let callable: Vec<&Tool> = match choice {
        ToolChoice::None => return Ok(None),
        ToolChoice::Auto if tools.is_empty() => return Ok(None),
        ToolChoice::Required if tools.is_empty() => return Err(ToolError::NoTools("required")),
        ToolChoice::Auto | ToolChoice::Required => tools.iter().collect(),
        ToolChoice::Named(name) => {
            let tool = tools
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| ToolError::UnknownTool(name.clone()))?;
            vec![tool]
        }
    };
    let auto = *choice == ToolChoice::Auto;
    let grammar = calls_grammar(&callable, parallel, auto)?;
    Ok(Some(if auto {
        Constraint::Lazy {
            grammar,
            patterns: call_starts(),
        }
    } else {
        Constraint::Grammar(grammar)
    }))
}

/// Where a call starts in an answer, as the lazy grammar's triggers.
fn call_starts() -> Vec<String> {
    vec![
        // A tagged call anywhere, after any text.
        format!(r"[\s\S]*?({CALL_OPEN})[\s\S]*"),
        // The bare JSON call small Qwen models write instead, alone in the answer (in a
        // code fence or not), as llama.cpp's Hermes parser accepts it. Anchored
        // (llama.cpp searches anywhere otherwise), and with at most the one space the
        // grammar allows after `{`: a trigger whose text the grammar refuses only makes
        // the sampler pick another token.
        r#"^\s*(?:```(?:json)?\s*)?(\{ ?"name")[\s\S]*$"#.to_string(),
    ]
}

/// An answer in words with the tools still in the prompt: triggers on a tagged call
/// anywhere and on an answer that opens with JSON or a code fence (a call by another
/// name: Qwen2.5-Coder 1.5B writes its call again as a fenced JSON object when the tag is
/// refused), with a grammar no text satisfies, so the sampler puts back whatever token
/// would start one and the model writes its most likely words instead.
pub fn no_calls() -> Constraint {
    Constraint::Lazy {
        grammar: r#"root ::= "\x01""#.to_string(),
        patterns: vec![
            format!(r"[\s\S]*?({CALL_OPEN})[\s\S]*"),
            r"^\s*(```|\{)[\s\S]*$".to_string(),
        ],
    }
}

/// `bare` also lets the calls be one JSON call without tags (the lazy `auto` grammar,
/// which starts wherever the model began its call).
fn calls_grammar(tools: &[&Tool], parallel: bool, bare: bool) -> Result<String, ToolError> {
    let mut defs = Map::new();
    let mut calls = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let arguments = hoist_defs(&t.parameters, &format!("t{i}"), &mut defs).map_err(|reason| ToolError::Schema {
            name: t.name.clone(),
            reason,
        })?;
        // `name` before `arguments`: the model picks the function, then fills its schema.
        calls.push(json!({
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": arguments},
            "required": ["name", "arguments"],
            "additionalProperties": false
        }));
    }
    let mut schema = if calls.len() == 1 {
        calls.remove(0)
    } else {
        json!({"anyOf": calls})
    };
    if !defs.is_empty() {
        schema["$defs"] = Value::Object(defs);
    }
    let json = json_schema_grammar(&schema).map_err(|e| {
        // Name the tool whose schema the converter refuses.
        let culprit = tools
            .iter()
            .find(|t| json_schema_grammar(&t.parameters).is_err())
            .map_or_else(|| "tools".to_string(), |t| t.name.clone());
        ToolError::Schema {
            name: culprit,
            reason: e.to_string(),
        }
    })?;
    let mut rules = Vec::new();
    for line in json.lines() {
        if let Some(body) = line.strip_prefix("root ::=") {
            rules.push(format!("call ::={body}"));
        } else if refers_to_root(line) {
            return Err(ToolError::Schema {
                name: "tools".into(),
                reason: "a schema that refers to its own root ($ref \"#\") is not supported".into(),
            });
        } else {
            rules.push(line.to_string());
        }
    }
    let block = format!(r#""{CALL_OPEN}\n" call "\n{CALL_CLOSE}""#);
    let tagged = if parallel {
        format!(r#"{block} ("\n" {block})*"#)
    } else {
        block
    };
    rules.insert(
        0,
        if bare {
            format!("root ::= {tagged} | call")
        } else {
            format!("root ::= {tagged}")
        },
    );
    Ok(rules.join("\n"))
}

/// Whether a rule's body names `root` (outside its string literals).
fn refers_to_root(line: &str) -> bool {
    let Some((_, body)) = line.split_once("::=") else {
        return false;
    };
    let mut outside = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in body.chars() {
        match (in_string, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, _, _) => escaped = false,
            (false, _, '"') => in_string = true,
            (false, _, c) => outside.push(c),
        }
    }
    outside
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .any(|w| w == "root")
}

/// The tool's schema with its `$defs`/`definitions` moved into the shared `defs` under
/// names prefixed per tool, and its `$ref`s rewritten to match: each tool's schema sits
/// inside one combined schema, where `#/$defs/X` means the combined schema's.
fn hoist_defs(schema: &Value, prefix: &str, defs: &mut Map<String, Value>) -> Result<Value, String> {
    let mut schema = schema.clone();
    if !schema.is_object() {
        return Err("the parameters must be a JSON schema object".into());
    }
    let mut own = Map::new();
    if let Some(obj) = schema.as_object_mut() {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(d)) = obj.remove(key) {
                own.extend(d);
            }
        }
    }
    rewrite_refs(&mut schema, prefix)?;
    for (name, mut def) in own {
        rewrite_refs(&mut def, prefix)?;
        defs.insert(format!("{prefix}-{name}"), def);
    }
    Ok(schema)
}

fn rewrite_refs(value: &mut Value, prefix: &str) -> Result<(), String> {
    match value {
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get_mut("$ref") {
                let name = r
                    .strip_prefix("#/$defs/")
                    .or_else(|| r.strip_prefix("#/definitions/"))
                    .ok_or_else(|| format!("only local references to $defs are supported, not \"{r}\""))?;
                *r = format!("#/$defs/{prefix}-{name}");
            }
            for v in obj.values_mut() {
                rewrite_refs(v, prefix)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite_refs(v, prefix)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> Tool {
        Tool::new(
            "get_weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )
    }

    #[test]
    fn choices_map_to_constraints() {
        let tools = [weather()];
        assert_eq!(constraint(&tools, &ToolChoice::None, true), Ok(None));
        assert_eq!(constraint(&[], &ToolChoice::Auto, true), Ok(None));
        let Ok(Some(Constraint::Lazy { grammar, patterns })) = constraint(&tools, &ToolChoice::Auto, true) else {
            panic!("auto is a lazy grammar");
        };
        assert!(grammar.contains(" | call"), "auto takes a bare call too: {grammar}");
        assert!(patterns[0].contains(CALL_OPEN) && patterns[1].contains("name"));
        let Ok(Some(Constraint::Grammar(g))) = constraint(&tools, &ToolChoice::Required, false) else {
            panic!("required is a grammar");
        };
        assert!(
            g.starts_with(r#"root ::= "<tool_call>\n" call "\n</tool_call>""#),
            "{g}"
        );
        assert!(g.contains("call ::="));
        assert_eq!(
            constraint(&tools, &ToolChoice::Named("nope".into()), true),
            Err(ToolError::UnknownTool("nope".into()))
        );
        assert_eq!(
            constraint(&[], &ToolChoice::Required, true),
            Err(ToolError::NoTools("required"))
        );
        assert_eq!(
            constraint(&[weather(), weather()], &ToolChoice::Auto, true),
            Err(ToolError::Duplicate("get_weather".into()))
        );
        assert!(matches!(
            constraint(&[Tool::new("a b", json!({}))], &ToolChoice::Auto, true),
            Err(ToolError::BadName(_))
        ));
    }

    #[test]
    fn each_tools_defs_keep_their_own_names() {
        let a = Tool::new(
            "a",
            json!({"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "$defs": {"P": {"type": "integer"}}}),
        );
        let b = Tool::new(
            "b",
            json!({"type": "object", "properties": {"p": {"$ref": "#/definitions/P"}}, "definitions": {"P": {"type": "string"}}}),
        );
        let mut defs = Map::new();
        let hoisted = hoist_defs(&a.parameters, "t0", &mut defs).expect("a");
        assert_eq!(hoisted["properties"]["p"]["$ref"], "#/$defs/t0-P");
        hoist_defs(&b.parameters, "t1", &mut defs).expect("b");
        assert_eq!(defs.len(), 2);
        assert!(constraint(&[a, b], &ToolChoice::Required, true).is_ok());
        let remote = Tool::new("r", json!({"$ref": "https://example.com/s.json"}));
        assert!(matches!(
            constraint(&[remote], &ToolChoice::Auto, true),
            Err(ToolError::Schema { .. })
        ));
    }

    #[test]
    fn root_is_found_only_outside_literals() {
        assert!(refers_to_root("x ::= \"a\" root"));
        assert!(!refers_to_root(r#"x ::= "root" space"#));
        assert!(!refers_to_root("root-0 ::= [a-z]"));
    }
}
