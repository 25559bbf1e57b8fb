//! Topic names from a template with `{prefix}`, `{db}` and `{table}` placeholders.

use thiserror::Error;

/// A template that names no known placeholder correctly.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TopicTemplateError {
    /// A `{...}` that is not `{prefix}`, `{db}` or `{table}`.
    #[error(
        "unknown placeholder `{{{0}}}` in topic template (known: {{prefix}}, {{db}}, {{table}})"
    )]
    UnknownPlaceholder(String),
    /// A `{` without its `}`.
    #[error("unclosed `{{` in topic template `{0}`")]
    Unclosed(String),
    /// A template without `{table}` would put every table in one topic.
    #[error("topic template `{0}` must contain {{table}}")]
    NoTable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Prefix,
    Db,
    Table,
}

/// A parsed topic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    text: String,
    parts: Vec<Part>,
}

impl TopicTemplate {
    /// The default, `{prefix}.{db}.{table}`.
    pub const DEFAULT: &'static str = "{prefix}.{db}.{table}";

    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, TopicTemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| TopicTemplateError::Unclosed(template.to_string()))?;
            parts.push(match &rest[open + 1..open + close] {
                "prefix" => Part::Prefix,
                "db" => Part::Db,
                "table" => Part::Table,
                other => return Err(TopicTemplateError::UnknownPlaceholder(other.to_string())),
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        if !parts.contains(&Part::Table) {
            return Err(TopicTemplateError::NoTable(template.to_string()));
        }
        Ok(Self {
            text: template.to_string(),
            parts,
        })
    }

    /// The template as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the topic names the database; without it, keys carry `"__db"`.
    pub fn has_db(&self) -> bool {
        self.parts.contains(&Part::Db)
    }

    /// The topic for a table. Database and table names are made topic-safe with
    /// [`sanitize_topic_part`].
    pub fn render(&self, prefix: &str, db: &str, table: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Prefix => out.push_str(prefix),
                Part::Db => out.push_str(&sanitize_topic_part(db)),
                Part::Table => out.push_str(&sanitize_topic_part(table)),
            }
        }
        out
    }
}

impl Default for TopicTemplate {
    /// [`TopicTemplate::DEFAULT`].
    fn default() -> Self {
        let dot = || Part::Literal(".".into());
        Self {
            text: Self::DEFAULT.into(),
            parts: vec![Part::Prefix, dot(), Part::Db, dot(), Part::Table],
        }
    }
}

/// Replaces every character Kafka does not allow in topic names (anything but ASCII letters,
/// digits, `.`, `_` and `-`) with `_`, as Debezium does.
pub fn sanitize_topic_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_default_text_parsed() {
        assert_eq!(
            TopicTemplate::default(),
            TopicTemplate::parse(TopicTemplate::DEFAULT).unwrap()
        );
    }

    #[test]
    fn renders_default_and_custom_templates() {
        let t = TopicTemplate::parse(TopicTemplate::DEFAULT).unwrap();
        assert!(t.has_db());
        assert_eq!(
            t.render("mwcdc", "enwiki", "revision"),
            "mwcdc.enwiki.revision"
        );
        let all = TopicTemplate::parse("{prefix}.all.{table}").unwrap();
        assert!(!all.has_db());
        assert_eq!(all.render("p", "x", "logging"), "p.all.logging");
        assert_eq!(t.render("p", "wiki$db", "t ü"), "p.wiki_db.t__");
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(
            TopicTemplate::parse("{prefix}.{schema}.{table}"),
            Err(TopicTemplateError::UnknownPlaceholder("schema".into()))
        );
        assert!(matches!(
            TopicTemplate::parse("{prefix.{table}"),
            Err(TopicTemplateError::UnknownPlaceholder(_))
        ));
        assert!(matches!(
            TopicTemplate::parse("{prefix}.{table"),
            Err(TopicTemplateError::Unclosed(_))
        ));
        assert!(matches!(
            TopicTemplate::parse("{prefix}.{db}"),
            Err(TopicTemplateError::NoTable(_))
        ));
    }
}
