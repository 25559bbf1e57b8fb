-- A few wiki operations, written the way MediaWiki writes them.
-- 1. enwiki: create "Main_Page" (page row, first revision, create log entry) in one transaction.
BEGIN;
INSERT INTO demo_enwiki.page (page_namespace, page_title) VALUES (0, 'Main_Page');
SET @page = LAST_INSERT_ID();
INSERT INTO demo_enwiki.revision (rev_page, rev_actor, rev_timestamp, rev_len, rev_sha1) VALUES (@page, 1, DATE_FORMAT(UTC_TIMESTAMP(), '%Y%m%d%H%i%s'), 42, 'phoiac9h4m842xq45sp7s6u21eteeq1');
UPDATE demo_enwiki.page SET page_latest = LAST_INSERT_ID(), page_len = 42 WHERE page_id = @page;
INSERT INTO demo_enwiki.logging (log_type, log_action, log_timestamp, log_actor, log_title, log_page, log_comment_id, log_params) VALUES ('create', 'create', DATE_FORMAT(UTC_TIMESTAMP(), '%Y%m%d%H%i%s'), 1, 'Main_Page', @page, 1, 'a:0:{}');
COMMIT;
-- 2. dewiki: an edit of "Hauptseite" whose title is UTF-8 and whose sha1 column holds raw bytes.
INSERT INTO demo_dewiki.page (page_namespace, page_title) VALUES (0, 'Hauptseite_Ünïcode');
INSERT INTO demo_dewiki.revision (rev_page, rev_actor, rev_timestamp, rev_len, rev_sha1) VALUES (LAST_INSERT_ID(), 2, DATE_FORMAT(UTC_TIMESTAMP(), '%Y%m%d%H%i%s'), 7, x'ff00ff00');
-- 3. enwiki: suppress the revision (rev_deleted bits only).
UPDATE demo_enwiki.revision SET rev_deleted = 15 WHERE rev_page = 1;
-- 4. enwiki: delete the page: revisions move to archive, log entry.
BEGIN;
INSERT INTO demo_enwiki.archive (ar_namespace, ar_title, ar_comment_id, ar_actor, ar_timestamp, ar_rev_id, ar_deleted, ar_len, ar_page_id, ar_sha1)
  SELECT 0, 'Main_Page', rev_comment_id, rev_actor, rev_timestamp, rev_id, rev_deleted, rev_len, rev_page, rev_sha1 FROM demo_enwiki.revision WHERE rev_page = 1;
DELETE FROM demo_enwiki.revision WHERE rev_page = 1;
DELETE FROM demo_enwiki.page WHERE page_id = 1;
INSERT INTO demo_enwiki.logging (log_type, log_action, log_timestamp, log_actor, log_title, log_page, log_comment_id, log_params) VALUES ('delete', 'delete', DATE_FORMAT(UTC_TIMESTAMP(), '%Y%m%d%H%i%s'), 1, 'Main_Page', 1, 2, 'a:0:{}');
COMMIT;
