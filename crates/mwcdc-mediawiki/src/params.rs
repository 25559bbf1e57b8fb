//! `logging.log_params` as entity records carry it.

use mwcdc_record::BinaryMode;
use serde_json::Value;

use crate::php::{bytes_to_json, decode_log_params, LogParams};

/// Decoded log parameters, and how they were read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    json: Value,
    flag: Option<&'static str>,
}

impl Params {
    /// Decodes a `log_params` value: serialize() output as JSON, legacy values as a list
    /// (flagged `log_params_legacy`), anything else raw by the binary rule (flagged
    /// `log_params_undecoded`), never dropped.
    pub(crate) fn decode(raw: &[u8], binary: BinaryMode) -> Self {
        match decode_log_params(raw, binary) {
            LogParams::Decoded(json) => Self { json, flag: None },
            LogParams::Legacy(json) => Self {
                json,
                flag: Some("log_params_legacy"),
            },
            LogParams::Undecodable => Self {
                json: bytes_to_json(raw, binary),
                flag: Some("log_params_undecoded"),
            },
        }
    }

    /// The parameters as JSON.
    pub(crate) fn json(&self) -> &Value {
        &self.json
    }

    /// The name of the flag field that says how the value was read, if it was not decoded.
    pub(crate) fn flag(&self) -> Option<&'static str> {
        self.flag
    }
}
