//! Integration tests against the real MariaDB and Kafka-protocol broker that
//! `make services` starts (`tests/services/`). Run with `make test`, or after
//! `make services` with `cargo test -p mwcdc --test integration`.
//!
//! Scenarios:
//! - `records`: inserts, updates and deletes on revision, archive and logging in two wiki
//!   databases and on an uncaptured table give exactly the expected records, topics, order.
//! - `values`: non-UTF-8 VARBINARY, BINARY(16) ending in zero bytes, a 1 MB blob, BIGINT
//!   UNSIGNED max come through exact.
//! - `restart`: stop and restart resume from the checkpoint; SIGKILL in a stream of
//!   thousands of transactions loses nothing; 10,000 transactions with three SIGKILLs.
//! - `failures`: purged binlogs, a STATEMENT-format session, XA rollback and commit,
//!   ALTER TABLE while streaming, TRUNCATE, wrong configuration.
//! - `entities`: a seeded MediaWiki workload (20,000 operations over 5 wikis, pages of 5,000
//!   revisions deleted in batches and undeleted) gives exactly its ground truth in the entity
//!   stream, in order per entity, every record valid by its JSON Schema.
//! - `source`: reconnecting after the dump connection is killed, compressed binlog events,
//!   tables without a primary key, `mwcdc checkpoint set|reset`.
//! - `failures` also: an oversize record (stop, or a marker), a corrupted event on the wire.
//! - `chaos`: the fault-injection run in both delivery modes, on a private primary, replica
//!   and broker (`cluster`) behind fault-injecting proxies (`proxy`): SIGKILLs, MariaDB
//!   restarts, cut and stalled connections, a lagging replica and a failover, compared with
//!   the workload's truth and the database (`make chaos` for the full schedule).
//! - `mediawiki`: the real MediaWiki 1.39 driven through its action API on two wikis (edits,
//!   moves, batched deletion, full and partial undeletion, revision deletion of live and
//!   archived revisions, suppression, a block hiding a name, user rights with expiries,
//!   protection, a history merge, imports, a rename), its own view read back after each
//!   operation and compared with the entity stream in the three capture modes.
//! - `operate`: `mwcdc check` on a correct server and on each wrong setting, `mwcdc status`,
//!   `/metrics` while a workload runs, `/readyz` while MariaDB is stopped, TLS to MariaDB in
//!   `verify-identity` mode (certificates made by openssl), and secrets kept out of logs,
//!   errors and metrics (every connector's log is checked for its password, in every test).
//! - `snapshot`: an `initial_only` snapshot (chunks of 100 rows) of five wikis' revision,
//!   archive, logging, page and user_groups tables and a table of hot rows while the workload
//!   writes at 500 operations a second: the wait and the drop paths are taken, and folding the
//!   row topics after the stream caught up gives the tables row for row; a snapshot of 200,000
//!   rows under writes killed three times resumes from its checkpoint; an ALTER TABLE during a
//!   snapshot waits for one chunk and the snapshot reads on with the new columns; a table
//!   without a key stops the snapshot (exit 3) naming it; an XA transaction prepared before a
//!   chunk and committed after it is in the fold; a snapshot of a `read_only` replica by the
//!   least-privilege account moves none of its write counters and writes no binlog event.
//! - `zombie`: a killed connector's produce request held by the network across its restart:
//!   a duplicate in exactly-once mode, none in transactional mode (`read_committed`).

mod harness;
mod private;
mod proxy;

mod chaos;
mod cluster;
mod entities;
mod failures;
mod mediawiki;
mod operate;
mod records;
mod restart;
mod snapshot;
mod source;
mod truth;
mod values;
mod zombie;
