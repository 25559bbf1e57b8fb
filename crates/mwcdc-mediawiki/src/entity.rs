//! The vocabulary of entity changes: the entity kinds and what can happen to them.

/// An entity kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A revision, live or archived (key `rev_id`).
    Revision = 0,
    /// A page (key `page_id`).
    Page = 1,
    /// A log entry (key `log_id`).
    Log = 2,
    /// A user's membership of a group (key user and group).
    UserGroup = 3,
}

impl Entity {
    /// Every entity kind.
    pub const ALL: [Entity; 4] = [
        Entity::Revision,
        Entity::Page,
        Entity::Log,
        Entity::UserGroup,
    ];

    /// The position of the kind in [`Entity::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in topics, ids and records.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Revision => "revision",
            Entity::Page => "page",
            Entity::Log => "log",
            Entity::UserGroup => "user_group",
        }
    }
}

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    Archive,
    Restore,
    VisibilityChange,
    Purge,
    Delete,
    Update,
    Move,
    Undelete,
    RedirectChange,
    Add,
    Remove,
    ExpiryChange,
    /// The entity as a snapshot read its row (not a change: its state at the read).
    Snapshot,
}

impl Action {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Archive => "archive",
            Action::Restore => "restore",
            Action::VisibilityChange => "visibility_change",
            Action::Purge => "purge",
            Action::Delete => "delete",
            Action::Update => "update",
            Action::Move => "move",
            Action::Undelete => "undelete",
            Action::RedirectChange => "redirect_change",
            Action::Add => "add",
            Action::Remove => "remove",
            Action::ExpiryChange => "expiry_change",
            Action::Snapshot => "snapshot",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_at_its_index() {
        for (i, e) in Entity::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }
}
