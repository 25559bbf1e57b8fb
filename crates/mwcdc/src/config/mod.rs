//! The TOML configuration, its defaults, and overrides from `MWCDC_*` environment variables.
//!
//! Every key can be overridden by an environment variable named from its path:
//! `source.server_id` is `MWCDC_SOURCE_SERVER_ID`. [`keys::KEYS`] lists them all, read from the
//! section types; it is the list `docs/configuration.md` documents (a test keeps the two in
//! step). Values are parsed once, here: the rest of mwcdc reads typed values.

mod error;
mod keys;
mod sections;
mod values;

use std::collections::BTreeMap;
use std::path::Path;

use error::key_error;
pub use error::ConfigError;
use sections::default_include;
pub use sections::*;
use values::parsed;

/// The environment variable holding the source password.
pub const PASSWORD_ENV: &str = "MWCDC_SOURCE_PASSWORD";

/// The prefix of environment variables that set librdkafka properties:
/// `MWCDC_SINK_PROPERTIES_SASL_PASSWORD` sets `sasl.password`.
pub const KAFKA_ENV_PREFIX: &str = "MWCDC_SINK_PROPERTIES_";

/// The suffix of a `[sink.properties]` key whose value names a file holding the property's
/// value: `"sasl.password_file" = "/run/secrets/kafka"`.
const FILE_SUFFIX: &str = "_file";

impl Config {
    /// Reads a file and applies the overrides in `env` (the process environment).
    pub fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, env)
    }

    /// Sets the stop position from `--stop-at`, given as text.
    pub fn set_stop(&mut self, text: &str) -> Result<(), ConfigError> {
        self.source.stop =
            Some(parsed::stop_position(text).map_err(|e| key_error("source.stop", e))?);
        Ok(())
    }

    /// Parses TOML text with overrides from `env`, then checks the values.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut doc: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
        keys::apply_environment(&mut doc, env)?;
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(doc)).map_err(|e| {
                // The path ends with the offending key, unknown ones included.
                let key = e.path().to_string();
                let message = e.inner().message().to_string();
                key_error(&key, message)
            })?;
        let mut config = config;
        config.read_kafka_secrets(env)?;
        config.validate()?;
        config.follow_table_prefixes();
        Ok(config)
    }

    /// With the default `include` and table prefixes, also captures the prefixed tables:
    /// `enwiki = "mw_"` adds `enwiki.mw_revision`, `enwiki.mw_archive`, `enwiki.mw_logging`.
    fn follow_table_prefixes(&mut self) {
        if self.source.include != default_include() {
            return;
        }
        for (wikis, prefix) in &self.source.table_prefix {
            for table in mwcdc_source::TableFilter::DEFAULT_INCLUDE {
                let table = table.trim_start_matches("*.");
                self.source.include.push(format!("{wikis}.{prefix}{table}"));
            }
        }
    }

    /// The table prefix of wiki `db`: the prefix of the first `source.table_prefix` pattern
    /// that is the name itself, else of the first glob (in key order) that matches it.
    pub fn table_prefix_of(prefixes: &BTreeMap<String, String>, db: &str) -> String {
        prefixes
            .get(db)
            .or_else(|| {
                prefixes
                    .iter()
                    .find(|(glob, _)| mwcdc_source::filter::glob(glob.as_bytes(), db.as_bytes()))
                    .map(|(_, prefix)| prefix)
            })
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces `<property>_file` entries of `[sink.properties]` by the files' contents and
    /// sets the properties named by `MWCDC_SINK_PROPERTIES_*` variables (which win), so that secrets
    /// need not be in the configuration file.
    fn read_kafka_secrets(&mut self, env: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let files: Vec<(String, String)> = self
            .sink
            .properties
            .keys()
            .filter_map(|k| Some((k.clone(), k.strip_suffix(FILE_SUFFIX)?.to_string())))
            .collect();
        for (file_key, name) in files {
            let key = format!("sink.properties.{file_key}");
            if self.sink.properties.contains_key(&name) {
                return Err(key_error(
                    &key,
                    format!("`{name}` is set too: give the value or the file, not both"),
                ));
            }
            let Some(toml::Value::String(path)) = self.sink.properties.remove(&file_key) else {
                return Err(key_error(&key, "must be the path of a file"));
            };
            let value = std::fs::read_to_string(&path)
                .map_err(|e| key_error(&key, format!("cannot read {path}: {e}")))?;
            let value = value.trim_end_matches(['\n', '\r']).to_string();
            self.sink
                .properties
                .insert(name, toml::Value::String(value));
        }
        for (var, value) in env.range(KAFKA_ENV_PREFIX.to_string()..) {
            let Some(name) = var.strip_prefix(KAFKA_ENV_PREFIX) else {
                break;
            };
            let name = name.to_ascii_lowercase().replace('_', ".");
            self.sink
                .properties
                .insert(name, toml::Value::String(value.clone()));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.name.is_empty() {
            return Err(key_error("name", "must not be empty"));
        }
        if self.source.server_id == 0 {
            return Err(key_error(
                "source.server_id",
                "must be a positive integer unique among the server's replicas (0 is not allowed)",
            ));
        }
        let Some(rest) = self.source.url.strip_prefix("mysql://") else {
            return Err(key_error(
                "source.url",
                "expected a URL like mysql://user@host:3306",
            ));
        };
        if rest
            .split('@')
            .next()
            .is_some_and(|userinfo| rest.contains('@') && userinfo.contains(':'))
        {
            return Err(key_error(
                "source.url",
                "must not contain a password (it would end up in logs and process listings); use MWCDC_SOURCE_PASSWORD or source.password_file",
            ));
        }
        if self.source.include.is_empty() {
            return Err(key_error(
                "source.include",
                "must list at least one db.table pattern",
            ));
        }
        if let Some((wikis, prefix)) = self.source.table_prefix.iter().find(|(w, p)| {
            w.is_empty()
                || w.contains('.')
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        }) {
            return Err(key_error(
                "source.table_prefix",
                format!("`{wikis}` = `{prefix}`: keys are database names or globs (no dot), values table name prefixes as in $wgDBprefix (letters, digits, _ and $)"),
            ));
        }
        for (key, patterns) in [
            ("source.include", &self.source.include),
            ("source.exclude", &self.source.exclude),
        ] {
            if let Some(bad) = patterns.iter().find(|p| !p.contains('.')) {
                return Err(key_error(key, format!("pattern `{bad}` must have the form db.table (globs allowed, e.g. *.revision)")));
            }
        }
        if !self.output.rows && !self.output.entities {
            return Err(key_error(
                "output.entities",
                "output.rows and output.entities are both false: nothing would be produced",
            ));
        }
        if self.sink.topic_prefix.is_empty() {
            return Err(key_error("sink.topic_prefix", "must not be empty"));
        }
        if self.source.tls.mode == mwcdc_source::TlsMode::VerifyCa && self.source.tls.ca.is_none() {
            return Err(key_error(
                "source.tls.ca",
                "mode \"verify-ca\" needs the CA certificate (a PEM file)",
            ));
        }
        if self.source.tls.cert.is_some() != self.source.tls.key.is_some() {
            return Err(key_error(
                "source.tls.key",
                "a client certificate needs both source.tls.cert and source.tls.key",
            ));
        }
        if self.sink.max_in_flight == 0 {
            return Err(key_error("sink.max_in_flight", "must be at least 1"));
        }
        for (d, key) in [
            (self.source.heartbeat, "source.heartbeat"),
            (self.source.read_timeout, "source.read_timeout"),
            (self.checkpoint.interval, "checkpoint.interval"),
        ] {
            if d.is_zero() {
                return Err(key_error(key, "must be longer than zero"));
            }
        }
        if self.source.read_timeout <= self.source.heartbeat {
            return Err(key_error(
                "source.read_timeout",
                "must be longer than source.heartbeat, or an idle server looks like a dead connection",
            ));
        }
        if !(1..=1_000_000).contains(&self.snapshot.chunk_rows) {
            return Err(key_error(
                "snapshot.chunk_rows",
                "must be between 1 and 1000000 rows",
            ));
        }
        if self.snapshot.tables.is_empty() {
            return Err(key_error(
                "snapshot.tables",
                "must list at least one db.table pattern (the default, \"*\", is every captured table)",
            ));
        }
        let mode = match self.sink.delivery {
            mwcdc_sink::Delivery::AtLeastOnce => None,
            mwcdc_sink::Delivery::ExactlyOnce => Some("exactly-once"),
            mwcdc_sink::Delivery::Transactional => Some("transactional"),
        };
        if let Some(mode) = mode.filter(|_| self.sink.kind != SinkType::Kafka) {
            return Err(key_error(
                "sink.delivery",
                format!(
                    "\"{mode}\" needs sink.type = \"kafka\": it reads back what the topics hold"
                ),
            ));
        }
        if self.sink.kind == SinkType::Kafka {
            if let Some((name, message)) = self.kafka_sink().delivery_conflict() {
                return Err(key_error(&format!("sink.properties.{name}"), message));
            }
        }
        for (k, v) in &self.sink.properties {
            if !matches!(
                v,
                toml::Value::String(_)
                    | toml::Value::Integer(_)
                    | toml::Value::Boolean(_)
                    | toml::Value::Float(_)
            ) {
                return Err(key_error(
                    &format!("sink.properties.{k}"),
                    "must be a string, number or boolean",
                ));
            }
        }
        Ok(())
    }

    /// How large transactions spill to disk.
    pub fn spill_policy(&self) -> mwcdc_change::SpillPolicy {
        mwcdc_change::SpillPolicy::new(
            usize::try_from(self.source.transaction_memory).unwrap_or(usize::MAX),
            self.source
                .spill_dir
                .clone()
                .unwrap_or_else(|| self.checkpoint.dir.join("spill")),
        )
    }

    /// The Kafka sink's settings.
    pub fn kafka_sink(&self) -> mwcdc_sink::KafkaSinkConfig {
        mwcdc_sink::KafkaSinkConfig {
            brokers: self.sink.brokers.clone(),
            properties: self.kafka_properties(),
            delivery: self.sink.delivery,
            oversize: self.sink.oversize,
            name: self.name.clone(),
        }
    }

    /// The librdkafka properties as strings.
    fn kafka_properties(&self) -> BTreeMap<String, String> {
        self.sink
            .properties
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// Reads the source password: `MWCDC_SOURCE_PASSWORD`, else `source.password_file`.
pub fn source_password(
    config: &Config,
    env: &BTreeMap<String, String>,
) -> Result<Option<String>, ConfigError> {
    if let Some(p) = env.get(PASSWORD_ENV) {
        return Ok(Some(p.clone()));
    }
    match &config.source.password_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
            .map_err(|e| {
                key_error(
                    "source.password_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use mwcdc_record::BinaryMode;
    use mwcdc_source::StartPosition;

    use super::keys::{env_name, KeyKind, KEYS};
    use super::values::byte_size;
    use super::*;

    #[test]
    fn the_keys_are_read_from_the_section_types() {
        let kind_of = |key: &str| KEYS.iter().find(|(k, _)| k == key).map(|(_, kind)| *kind);
        assert_eq!(kind_of("name"), Some(KeyKind::Text));
        assert_eq!(kind_of("source.server_id"), Some(KeyKind::Integer));
        assert_eq!(kind_of("source.include"), Some(KeyKind::List));
        assert_eq!(kind_of("source.stop"), Some(KeyKind::Text));
        assert_eq!(kind_of("source.tls.mode"), Some(KeyKind::Text));
        assert_eq!(kind_of("source.transaction_memory"), Some(KeyKind::Text));
        assert_eq!(kind_of("sink.type"), Some(KeyKind::Text));
        assert_eq!(kind_of("sink.max_in_flight"), Some(KeyKind::Integer));
        assert_eq!(kind_of("output.tombstones"), Some(KeyKind::Boolean));
        assert_eq!(kind_of("http.listen"), Some(KeyKind::Text));
        // Tables of free keys are set in the file only; sections are no keys.
        for absent in [
            "source.table_prefix",
            "sink.properties",
            "source",
            "source.tls",
        ] {
            assert_eq!(kind_of(absent), None, "{absent}");
        }
        assert_eq!(KEYS.len(), 40, "{:?}", *KEYS);
    }

    const MINIMAL: &str = "[source]\nurl = \"mysql://cdc@127.0.0.1:3306\"\n";

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(text, Path::new("test.toml"), &env)
    }

    #[test]
    fn defaults_match_the_documentation() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.name, "mwcdc");
        assert_eq!(c.source.server_id, 8001);
        assert_eq!(
            c.source.include,
            vec!["*.revision", "*.archive", "*.logging"]
        );
        assert_eq!(c.source.start, StartPosition::Latest);
        assert_eq!(c.sink.kind, SinkType::Kafka);
        assert_eq!(c.sink.topic_prefix, "mwcdc");
        assert_eq!(c.checkpoint.interval, Duration::from_secs(1));
        assert_eq!(c.output.binary, BinaryMode::Utf8);
        assert!(c.output.tombstones);
        assert_eq!(c.sink.delivery, mwcdc_sink::Delivery::AtLeastOnce);
        assert_eq!(c.sink.oversize, mwcdc_sink::Oversize::Fail);
    }

    #[test]
    fn table_prefixes_extend_the_default_include_and_are_found_by_wiki() {
        let text = format!(
            "{MINIMAL}[source.table_prefix]\nenwiki = \"mw_\"\n\"*wiktionary\" = \"wt_\"\n"
        );
        let c = parse(&text, &[]).unwrap();
        for name in [
            "*.revision",
            "enwiki.mw_revision",
            "enwiki.mw_archive",
            "enwiki.mw_logging",
            "*wiktionary.wt_logging",
        ] {
            assert!(
                c.source.include.iter().any(|p| p == name),
                "{name} in {:?}",
                c.source.include
            );
        }
        let prefixes = &c.source.table_prefix;
        assert_eq!(Config::table_prefix_of(prefixes, "enwiki"), "mw_");
        assert_eq!(Config::table_prefix_of(prefixes, "frwiktionary"), "wt_");
        assert_eq!(Config::table_prefix_of(prefixes, "dewiki"), "");
        // An include given by the user is left as it is.
        let c = parse("[source]\nurl = \"mysql://cdc@h:3306\"\ninclude = [\"enwiki.mw_revision\"]\n[source.table_prefix]\nenwiki = \"mw_\"\n", &[]).unwrap();
        assert_eq!(c.source.include, vec!["enwiki.mw_revision"]);
        let err = parse(
            &format!("{MINIMAL}[source.table_prefix]\nenwiki = \"mw-\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("source.table_prefix"), "{err}");
    }

    #[test]
    fn exactly_once_needs_kafka_and_gap_free_producer_settings() {
        let eo = format!("{MINIMAL}[sink]\ndelivery = \"exactly-once\"\noversize = \"skip\"\n");
        let c = parse(&eo, &[]).unwrap();
        assert_eq!(c.sink.delivery, mwcdc_sink::Delivery::ExactlyOnce);
        assert_eq!(c.sink.oversize, mwcdc_sink::Oversize::Skip);
        let err = parse(&format!("{eo}type = \"stdout\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("sink.delivery"), "{err}");
        let err = parse(
            &format!("{eo}[sink.properties]\n\"message.timeout.ms\" = 30000\n"),
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("sink.properties.message.timeout.ms"),
            "{err}"
        );
        let err = parse(MINIMAL, &[("MWCDC_SINK_DELIVERY", "twice")]).unwrap_err();
        assert!(err.to_string().contains("sink.delivery"), "{err}");
    }

    #[test]
    fn transactional_needs_kafka_and_leaves_the_transactional_id_to_the_name() {
        let tx = format!("{MINIMAL}[sink]\ndelivery = \"transactional\"\n");
        let c = parse(&tx, &[]).unwrap();
        assert_eq!(c.sink.delivery, mwcdc_sink::Delivery::Transactional);
        assert_eq!(
            c.kafka_sink().client_properties()["transactional.id"],
            mwcdc_sink::transactional_id(&c.name)
        );
        let err = parse(&format!("{tx}type = \"null\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("sink.delivery"), "{err}");
        for (property, value) in [
            ("transactional.id", "\"other\""),
            ("message.timeout.ms", "0"),
            ("acks", "1"),
        ] {
            let err = parse(
                &format!("{tx}[sink.properties]\n\"{property}\" = {value}\n"),
                &[],
            )
            .unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("sink.properties.{property}")),
                "{err}"
            );
        }
        let err = parse(
            &format!("{MINIMAL}[sink.properties]\n\"transactional.id\" = \"x\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("sink.properties.transactional.id"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse(&format!("{MINIMAL}server_idd = 3\n"), &[]).unwrap_err();
        assert_eq!(
            err.to_string().split(':').next().unwrap(),
            "configuration key `source.server_idd`"
        );
        let err = parse(&format!("colour = 1\n{MINIMAL}"), &[]).unwrap_err();
        assert!(
            err.to_string().starts_with("configuration key `colour`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_and_impossible_values_are_named() {
        let err = parse(&format!("{MINIMAL}server_id = \"x\"\n"), &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("configuration key `source.server_id`"),
            "{err}"
        );
        let err = parse(&format!("{MINIMAL}server_id = 0\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("source.server_id"), "{err}");
        let err = parse(&format!("{MINIMAL}start = \"yesterday\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("source.start"), "{err}");
        let err = parse(
            &format!("{MINIMAL}[output]\ntopic = \"{{prefix}}.{{schema}}\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("output.topic"), "{err}");
        let err = parse(
            &format!("{MINIMAL}[checkpoint]\ninterval = \"soon\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("checkpoint.interval"), "{err}");
    }

    #[test]
    fn snapshot_settings_are_checked() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.snapshot.mode, SnapshotMode::Never);
        assert_eq!(
            (c.snapshot.chunk_rows, c.snapshot.max_rows_per_second),
            (10_000, 0)
        );
        assert_eq!(c.snapshot.tables, vec!["*"]);
        let c = parse(
            &format!("{MINIMAL}[snapshot]\nmode = \"initial_only\"\nchunk_rows = 100\ntables = [\"*.page\"]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(c.snapshot.mode, SnapshotMode::InitialOnly);
        assert_eq!(c.snapshot.chunk_rows, 100);
        for (section, key) in [
            ("mode = \"sometimes\"", "snapshot.mode"),
            ("chunk_rows = 0", "snapshot.chunk_rows"),
            ("chunk_rows = 1000001", "snapshot.chunk_rows"),
            ("tables = []", "snapshot.tables"),
            ("chunk = 5", "snapshot.chunk"),
        ] {
            let err = parse(&format!("{MINIMAL}[snapshot]\n{section}\n"), &[]).unwrap_err();
            assert!(err.to_string().contains(key), "{section}: {err}");
        }
        for delivery in ["exactly-once", "transactional"] {
            let c = parse(
                &format!(
                    "{MINIMAL}[sink]\ndelivery = \"{delivery}\"\n[snapshot]\nmode = \"initial\"\n"
                ),
                &[],
            )
            .unwrap();
            assert_eq!(c.snapshot.mode, SnapshotMode::Initial, "{delivery}");
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused() {
        let err = parse("[source]\nurl = \"mysql://cdc:secret@h:3306\"\n", &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("configuration key `source.url`"),
            "{err}"
        );
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn environment_overrides_keys() {
        let c = parse(
            MINIMAL,
            &[
                ("MWCDC_SOURCE_SERVER_ID", "9001"),
                ("MWCDC_SINK_BROKERS", "k:9092"),
                ("MWCDC_NAME", "other"),
                ("MWCDC_SOURCE_INCLUDE", "a.b, c.*"),
                ("MWCDC_OUTPUT_TOMBSTONES", "false"),
            ],
        )
        .unwrap();
        assert_eq!(c.source.server_id, 9001);
        assert_eq!(c.sink.brokers, "k:9092");
        assert_eq!(c.name, "other");
        assert_eq!(c.source.include, vec!["a.b", "c.*"]);
        assert!(!c.output.tombstones);
        let err = parse(MINIMAL, &[("MWCDC_SOURCE_SERVER_ID", "many")]).unwrap_err();
        assert!(err.to_string().contains("MWCDC_SOURCE_SERVER_ID"), "{err}");
    }

    #[test]
    fn every_key_is_accepted_and_documented() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/configuration.md"
        ))
        .expect("docs/configuration.md exists");
        for (key, kind) in KEYS.iter() {
            let key = &key.as_str();
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/configuration.md lacks `{key}`"
            );
            assert!(
                doc.contains(&env_name(key)),
                "docs/configuration.md lacks {}",
                env_name(key)
            );
            let value = match (key, kind) {
                (_, KeyKind::Integer) => "5",
                (_, KeyKind::Boolean) => "true",
                (_, KeyKind::List) => "a.b",
                (&"source.url", _) => "mysql://x@h:1",
                (&"source.start", _) => "earliest",
                (&"source.stop", _) => "0-1-100",
                (&"source.schema", _) => "information_schema",
                (&"sink.type", _) => "stdout",
                (&"sink.delivery", _) => "at-least-once",
                (&"sink.oversize", _) => "skip",
                (&"output.binary", _) => "hex",
                (&"output.topic", _) => "{prefix}.{table}",
                (&"output.entity_topic", _) => "{prefix}.e.{entity}",
                (&"source.transaction_memory", _) => "16MiB",
                (&"source.heartbeat", _) => "1s",
                (&"source.tls.mode", _) => "verify-identity",
                (&"http.listen", _) => "127.0.0.1:0",
                (&"http.ready_max_lag", _) => "1m",
                (&"snapshot.mode", _) => "initial",
                (&"snapshot.tables", _) => "*.revision",
                (k, _)
                    if k.ends_with("interval") || k.ends_with("timeout") || k.ends_with("_max") =>
                {
                    "1m"
                }
                _ => "x",
            };
            // A client certificate comes with its key.
            let companion = match *key {
                "source.tls.cert" => Some("source.tls.key"),
                "source.tls.key" => Some("source.tls.cert"),
                _ => None,
            }
            .map(env_name);
            let mut vars = vec![(env_name(key), value)];
            vars.extend(companion.map(|c| (c, "x")));
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            parse(MINIMAL, &vars).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert!(doc.contains(PASSWORD_ENV));
    }

    #[test]
    fn kafka_secrets_come_from_files_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kafka-password");
        std::fs::write(&file, "from-the-file\n").unwrap();
        let text = format!(
            "{MINIMAL}[sink.properties]\n\"sasl.password_file\" = {:?}\n\"security.protocol\" = \"SASL_SSL\"\n",
            file.display()
        );
        let c = parse(&text, &[]).unwrap();
        let props = c.kafka_sink().properties;
        assert_eq!(props["sasl.password"], "from-the-file");
        assert!(!props.contains_key("sasl.password_file"));
        let c = parse(
            &text,
            &[
                ("MWCDC_SINK_PROPERTIES_SASL_PASSWORD", "from-the-env"),
                ("MWCDC_SINK_PROPERTIES_SASL_USERNAME", "mwcdc"),
            ],
        )
        .unwrap();
        let props = c.kafka_sink().properties;
        assert_eq!(props["sasl.password"], "from-the-env");
        assert_eq!(props["sasl.username"], "mwcdc");
        let debug = format!("{c:?}");
        assert!(debug.contains("sasl.password"), "{debug}");
        assert!(!debug.contains("from-the-env"), "{debug}");
        let both = format!("{text}\"sasl.password\" = \"inline\"\n");
        let err = parse(&both, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("sink.properties.sasl.password_file"),
            "{err}"
        );
        let missing = text.replace("kafka-password", "absent");
        let err = parse(&missing, &[]).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn tls_and_http_settings_are_checked() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.source.tls.mode, mwcdc_source::TlsMode::Disabled);
        assert_eq!(c.http.listen, Some("127.0.0.1:9187".parse().unwrap()));
        assert_eq!(c.http.ready_max_lag, Duration::from_secs(60));
        let c = parse(MINIMAL, &[("MWCDC_HTTP_LISTEN", "")]).unwrap();
        assert_eq!(c.http.listen, None);
        let err = parse(MINIMAL, &[("MWCDC_HTTP_LISTEN", "localhost")]).unwrap_err();
        assert!(err.to_string().contains("http.listen"), "{err}");
        let err = parse(
            &format!("{MINIMAL}[source.tls]\nmode = \"verify-ca\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("source.tls.ca"), "{err}");
        let err = parse(&format!("{MINIMAL}[source.tls]\nmode = \"verify\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("source.tls.mode"), "{err}");
        let c = parse(
            &format!("{MINIMAL}[source.tls]\nmode = \"verify-ca\"\nca = \"/ca.pem\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(c.source.tls.options().ca, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn sizes_and_record_streams() {
        assert_eq!(byte_size::parse("64MiB"), Some(64 << 20));
        assert_eq!(byte_size::parse("100 MB"), Some(100_000_000));
        assert_eq!(byte_size::parse("4096"), Some(4096));
        assert_eq!(byte_size::parse("1TiB"), None);
        assert_eq!(byte_size::parse("MiB"), None);
        let c = parse(MINIMAL, &[("MWCDC_SOURCE_TRANSACTION_MEMORY", "1KiB")]).unwrap();
        assert_eq!(c.spill_policy().memory_in_use(), 0);
        assert_eq!(c.source.transaction_memory, 1024);
        let e = parse(
            MINIMAL,
            &[
                ("MWCDC_OUTPUT_ROWS", "false"),
                ("MWCDC_OUTPUT_ENTITIES", "false"),
            ],
        )
        .unwrap_err();
        assert!(e.to_string().contains("output.entities"), "{e}");
        let e = parse(MINIMAL, &[("MWCDC_OUTPUT_ENTITY_TOPIC", "{prefix}.{db}")]).unwrap_err();
        assert!(e.to_string().contains("output.entity_topic"), "{e}");
    }

    #[test]
    fn the_container_configurations_parse() {
        for file in ["docker/mwcdc.toml", "docker/helm/mwcdc/files/mwcdc.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(file);
            let config =
                Config::load(&path, &BTreeMap::new()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                config.checkpoint.dir,
                Path::new("/var/lib/mwcdc"),
                "{file}: the state volume"
            );
            assert_eq!(
                config.http.listen,
                Some("0.0.0.0:9187".parse().unwrap()),
                "{file}: reachable by probes and scrapers"
            );
        }
    }

    #[test]
    fn the_example_configuration_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../mwcdc.example.toml"
        ))
        .expect("mwcdc.example.toml exists");
        parse(&text, &[]).unwrap();
    }
}
