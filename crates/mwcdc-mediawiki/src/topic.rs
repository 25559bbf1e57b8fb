//! Entity topic names from a template with `{prefix}` and `{entity}` placeholders.

use mwcdc_record::sanitize_topic_part;
use thiserror::Error;

use crate::entity::Entity;

/// An entity topic template that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EntityTopicTemplateError {
    /// A placeholder other than `{prefix}` and `{entity}`, or an unbalanced brace.
    #[error(
        "entity topic template `{0}` may contain only the placeholders {{prefix}} and {{entity}}"
    )]
    Placeholder(String),
    /// Without `{entity}` every entity would share one topic.
    #[error("entity topic template `{0}` must contain {{entity}}")]
    NoEntity(String),
}

/// A parsed entity topic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTopicTemplate(String);

impl EntityTopicTemplate {
    /// The default, `{prefix}.entity.{entity}`.
    pub const DEFAULT: &'static str = "{prefix}.entity.{entity}";

    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, EntityTopicTemplateError> {
        let rest = template.replace("{prefix}", "").replace("{entity}", "");
        if rest.contains(['{', '}']) {
            return Err(EntityTopicTemplateError::Placeholder(template.into()));
        }
        if !template.contains("{entity}") {
            return Err(EntityTopicTemplateError::NoEntity(template.into()));
        }
        Ok(Self(template.into()))
    }

    /// The template as it was written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The topic of `entity`.
    pub fn render(&self, prefix: &str, entity: Entity) -> String {
        self.0
            .replace("{prefix}", &sanitize_topic_part(prefix))
            .replace("{entity}", entity.name())
    }
}

impl Default for EntityTopicTemplate {
    /// [`EntityTopicTemplate::DEFAULT`].
    fn default() -> Self {
        Self(Self::DEFAULT.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_rejects() {
        let t = EntityTopicTemplate::parse(EntityTopicTemplate::DEFAULT).unwrap();
        assert_eq!(t.render("mw", Entity::UserGroup), "mw.entity.user_group");
        assert!(EntityTopicTemplate::parse("{prefix}.{db}.{entity}").is_err());
        assert_eq!(
            EntityTopicTemplate::parse("{prefix}.entities"),
            Err(EntityTopicTemplateError::NoEntity(
                "{prefix}.entities".into()
            ))
        );
    }
}
