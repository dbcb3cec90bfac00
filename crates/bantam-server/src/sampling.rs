//! OpenAI's sampling parameters as the engine's, checked against OpenAI's ranges.

use bantam_core::engine::{Sampling, MAX_TOP_LOGPROBS};
use serde_json::Value;

use crate::error::ApiError;
use crate::types::SamplingParams;

/// `default_max` applies when the client sets no limit: the context's end for chat (as
/// OpenAI's "until the model stops"), 16 for legacy completions (OpenAI's default).
pub fn sampling(p: &SamplingParams, default_max: u32) -> Result<Sampling, ApiError> {
    if p.n.is_some_and(|n| n != 1) {
        return Err(ApiError::param(
            "n",
            "only n=1 is supported; send the request again for another answer",
        ));
    }
    let top = MAX_TOP_LOGPROBS as u64;
    let logprobs = match &p.logprobs {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        // Chat: the chosen tokens', and `top_logprobs` alternatives.
        Some(Value::Bool(true)) => Some(p.top_logprobs.map_or(0, u64::from)),
        // Legacy completions: the number of alternatives.
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| ApiError::param("logprobs", format!("logprobs must be an integer from 0 to {top}")))?,
        ),
        Some(_) => {
            return Err(ApiError::param(
                "logprobs",
                "logprobs must be true, false or an integer",
            ))
        }
    };
    if p.top_logprobs.is_some_and(|n| n > 0) && logprobs.is_none() {
        return Err(ApiError::param("top_logprobs", "top_logprobs needs logprobs: true"));
    }
    if let Some(n) = logprobs.filter(|&n| n > top) {
        let param = if p.top_logprobs.is_some() {
            "top_logprobs"
        } else {
            "logprobs"
        };
        return Err(ApiError::param(
            param,
            format!("{n} is more than {top} alternatives per token"),
        ));
    }
    if p.logit_bias.as_ref().is_some_and(|b| !b.is_empty()) {
        return Err(ApiError::param("logit_bias", "logit_bias is not supported"));
    }
    let mut s = Sampling {
        logprobs: logprobs.map(|n| n as usize),
        ..Sampling::default()
    };
    if let Some(t) = p.temperature {
        in_range("temperature", t, 0.0, 2.0)?;
        s.temperature = t;
    }
    if let Some(top_p) = p.top_p {
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ApiError::param("top_p", format!("{top_p} is not in (0, 1]")));
        }
        s.top_p = top_p;
    }
    if let Some(v) = p.presence_penalty {
        in_range("presence_penalty", v, -2.0, 2.0)?;
        s.presence_penalty = v;
    }
    if let Some(v) = p.frequency_penalty {
        in_range("frequency_penalty", v, -2.0, 2.0)?;
        s.frequency_penalty = v;
    }
    // OpenAI's seed is any integer; the sampler's is 32 bits.
    s.seed = p.seed.map(|v| v.rem_euclid(1 << 32) as u32);
    let max = p.max_completion_tokens.or(p.max_tokens).unwrap_or(default_max);
    if max == 0 {
        return Err(ApiError::param("max_tokens", "max_tokens must be at least 1"));
    }
    s.max_tokens = max as usize;
    s.ignore_eos = p.ignore_eos;
    if let Some(stop) = &p.stop {
        let stops = stop.clone().into_vec();
        if stops.len() > 16 {
            return Err(ApiError::param("stop", "at most 16 stop sequences"));
        }
        s.stop = stops.into_iter().filter(|s| !s.is_empty()).collect();
    }
    Ok(s)
}

fn in_range(name: &str, v: f32, lo: f32, hi: f32) -> Result<(), ApiError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ApiError::param(name, format!("{v} is not in [{lo}, {hi}]")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_map_and_are_checked() {
        let p = SamplingParams {
            max_tokens: Some(10),
            max_completion_tokens: Some(20),
            temperature: Some(0.0),
            seed: Some(-1),
            stop: Some(crate::types::OneOrMany::Many(vec!["\n".into(), String::new()])),
            presence_penalty: Some(0.5),
            ..Default::default()
        };
        let s = sampling(&p, 100).expect("valid");
        assert_eq!(s.max_tokens, 20, "max_completion_tokens wins");
        assert_eq!(s.temperature, 0.0);
        assert_eq!(s.seed, Some(u32::MAX));
        assert_eq!(s.stop, ["\n"]);
        assert_eq!(s.presence_penalty, 0.5);
        assert_eq!(s.logprobs, None);
        let chat = |top| SamplingParams {
            logprobs: Some(serde_json::Value::Bool(true)),
            top_logprobs: top,
            ..Default::default()
        };
        assert_eq!(sampling(&chat(None), 9).unwrap().logprobs, Some(0));
        assert_eq!(sampling(&chat(Some(20)), 9).unwrap().logprobs, Some(20));
        let legacy = SamplingParams {
            logprobs: Some(serde_json::json!(3)),
            ..Default::default()
        };
        assert_eq!(sampling(&legacy, 9).unwrap().logprobs, Some(3));
        assert_eq!(
            sampling(&SamplingParams::default(), 16).expect("default").max_tokens,
            16
        );
        for bad in [
            SamplingParams {
                temperature: Some(3.0),
                ..Default::default()
            },
            SamplingParams {
                top_p: Some(0.0),
                ..Default::default()
            },
            SamplingParams {
                n: Some(2),
                ..Default::default()
            },
            SamplingParams {
                max_tokens: Some(0),
                ..Default::default()
            },
            SamplingParams {
                logprobs: Some(serde_json::Value::Bool(true)),
                top_logprobs: Some(21),
                ..Default::default()
            },
            SamplingParams {
                top_logprobs: Some(2),
                ..Default::default()
            },
            SamplingParams {
                logprobs: Some(serde_json::json!(-1)),
                ..Default::default()
            },
        ] {
            let e = sampling(&bad, 16).expect_err("refused");
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(e.param.is_some());
        }
    }
}
