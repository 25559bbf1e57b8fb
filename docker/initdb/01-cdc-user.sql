-- Run by the mariadb image once, when it initialises an empty data directory
-- (/docker-entrypoint-initdb.d). Creates the account mwcdc connects with
-- (docker/mwcdc.toml: mysql://cdc@mariadb:3306); its password is the demo value compose passes
-- to mwcdc in MWCDC_SOURCE_PASSWORD. The grants are those of docs/operations.md
-- ("The database account"): BINLOG MONITOR is what MariaDB 10.5 and later call
-- REPLICATION CLIENT (needed for SHOW BINARY LOGS, e.g. source.start = "earliest").
CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-secret';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'cdc'@'%';
