//! Token log-probabilities in OpenAI's two shapes: chat's `{"content": [{token, logprob,
//! bytes, top_logprobs}]}` and the legacy completions' parallel lists.

use bantam_core::engine::{TokenChoice, TokenLogprob};
use serde_json::{json, Map, Value};

fn choice(c: &TokenChoice) -> Value {
    json!({"token": c.token, "logprob": c.logprob, "bytes": c.bytes})
}

/// Chat completions' `choices[].logprobs` (and a chunk's, for the tokens it carries).
pub fn chat(tokens: &[TokenLogprob]) -> Value {
    let content: Vec<Value> = tokens
        .iter()
        .map(|t| {
            let mut v = choice(&t.chosen);
            v["top_logprobs"] = t.top.iter().map(choice).collect();
            v
        })
        .collect();
    json!({"content": content, "refusal": null})
}

/// Legacy completions' `choices[].logprobs`; `offset` is where the first token's text
/// starts in the choice's text (after an echoed prompt, or earlier chunks).
pub fn legacy(tokens: &[TokenLogprob], offset: usize) -> Value {
    let mut at = offset;
    let mut offsets = Vec::with_capacity(tokens.len());
    for t in tokens {
        offsets.push(at);
        at += t.chosen.bytes.len();
    }
    let top: Vec<Value> = tokens
        .iter()
        .map(|t| {
            let map: Map<String, Value> = t.top.iter().map(|c| (c.token.clone(), json!(c.logprob))).collect();
            Value::Object(map)
        })
        .collect();
    json!({
        "tokens": tokens.iter().map(|t| t.chosen.token.clone()).collect::<Vec<_>>(),
        "token_logprobs": tokens.iter().map(|t| t.chosen.logprob).collect::<Vec<_>>(),
        "top_logprobs": top,
        "text_offset": offsets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str, logprob: f32) -> TokenLogprob {
        let c = TokenChoice {
            token: text.into(),
            bytes: text.as_bytes().to_vec(),
            logprob,
        };
        TokenLogprob {
            chosen: c.clone(),
            top: vec![c],
        }
    }

    #[test]
    fn both_shapes_are_openais() {
        let tokens = [token("Hi", -0.5), token(" there", -1.0)];
        let c = chat(&tokens);
        assert_eq!(c["content"][1]["token"], " there");
        assert_eq!(c["content"][0]["bytes"], json!([72, 105]));
        assert_eq!(c["content"][0]["top_logprobs"][0]["logprob"], -0.5);
        let l = legacy(&tokens, 3);
        assert_eq!(l["tokens"], json!(["Hi", " there"]));
        assert_eq!(l["text_offset"], json!([3, 5]));
        assert_eq!(l["top_logprobs"][1][" there"], -1.0);
    }
}
