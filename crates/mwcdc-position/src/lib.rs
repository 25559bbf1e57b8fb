//! Replication positions of MariaDB and MySQL as plain values: no I/O.
//!
//! - [`MariaPosition`]: the last [`MariaGtid`] (`domain-server-seq`) of every replication
//!   domain, as in `@@gtid_slave_pos`. A value means "every transaction up to and including
//!   these GTIDs has been applied"; within a domain sequence numbers must increase
//!   ([`MariaPosition::advance`] refuses a GTID that goes backwards).
//! - [`GtidSet`]: a MySQL set of executed GTIDs ([`MySqlGtid`], `uuid[:tag]:gno`), as in
//!   `@@gtid_executed`.
//! - [`Position`]: either of them, tagged with its [`Flavor`].
//!
//! Every type's `Display` output parses back with `FromStr` into an equal value. Positions of
//! different flavors are never compared: [`Position::try_covers`] refuses with
//! [`PositionError::FlavorMismatch`].

#![warn(missing_docs)]

mod error;
mod flavor;
mod gtid;
mod mariadb;
mod mysql;
mod position;

pub use error::PositionError;
pub use flavor::{Flavor, UnknownFlavor};
pub use gtid::MariaGtid;
pub use mariadb::MariaPosition;
pub use mysql::{normalize_tag, GtidSet, MySqlGtid, Uuid, GNO_MAX};
pub use position::Position;
