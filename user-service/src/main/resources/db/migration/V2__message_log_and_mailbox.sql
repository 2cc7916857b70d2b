-- One message log for history and stored messages, plus each recipient's mailbox.
--
-- `message` holds every message the server accepted, once, whatever number of recipients:
-- `id` is the one order of a conversation (the same for both sides and for every node),
-- `msgno` the cluster-unique number the gateway gave it (a retried store finds it again),
-- `conv` the conversation ('u:<low id>:<high id>' one-to-one, 'g:<groupid>' group),
-- `body` the JSON object exactly as delivered. `created_at` (epoch millis, server time)
-- drives retention.
--
-- `mailbox` has one row per (recipient, message) the recipient was meant to get: pending = 1
-- while stored and not yet acknowledged, 0 once the recipient has it (delivered live or
-- acknowledged). The 0 rows are tombstones: a late or retried store of the same message for
-- that user finds the row and adds nothing. Rows go with their message.

CREATE TABLE message (
  id         BIGINT      NOT NULL AUTO_INCREMENT,
  msgno      VARCHAR(64) NOT NULL,
  conv       VARCHAR(32) NOT NULL,
  sender     INT         NOT NULL,
  created_at BIGINT      NOT NULL COMMENT 'epoch millis, server time',
  body       MEDIUMTEXT  NOT NULL COMMENT 'the JSON object as delivered',
  PRIMARY KEY (id),
  UNIQUE KEY uk_message_msgno (msgno),
  -- newest N before X in one conversation: a range scan backwards from (conv, X)
  KEY idx_message_conv_id (conv, id),
  -- retention deletes the oldest first, in small batches
  KEY idx_message_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE mailbox (
  userid     INT        NOT NULL,
  message_id BIGINT     NOT NULL,
  pending    TINYINT(1) NOT NULL,
  PRIMARY KEY (userid, message_id),
  -- a user's pending messages in order, and how many there are
  KEY idx_mailbox_user_pending (userid, pending, message_id),
  KEY idx_mailbox_message (message_id),
  CONSTRAINT fk_mailbox_user FOREIGN KEY (userid) REFERENCES `user` (id) ON DELETE CASCADE,
  CONSTRAINT fk_mailbox_message FOREIGN KEY (message_id) REFERENCES message (id)
    ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The classic table's rows become pending mailbox entries, in their order. Each row was one
-- copy for one user, so each becomes its own log entry, numbered 'legacy-<no>'; the body
-- carries that number as its msgno, so a client can acknowledge it and page history from it.
INSERT INTO message (msgno, conv, sender, created_at, body)
SELECT CONCAT('legacy-', o.no),
       CASE
         WHEN JSON_EXTRACT(o.message, '$.msgid') = 6
              AND JSON_TYPE(JSON_EXTRACT(o.message, '$.id')) = 'INTEGER'
              AND JSON_TYPE(JSON_EXTRACT(o.message, '$.toid')) = 'INTEGER'
           THEN CONCAT('u:',
                LEAST(JSON_EXTRACT(o.message, '$.id'), JSON_EXTRACT(o.message, '$.toid')), ':',
                GREATEST(JSON_EXTRACT(o.message, '$.id'), JSON_EXTRACT(o.message, '$.toid')))
         WHEN JSON_EXTRACT(o.message, '$.msgid') = 10
              AND JSON_TYPE(JSON_EXTRACT(o.message, '$.groupid')) = 'INTEGER'
           THEN CONCAT('g:', JSON_EXTRACT(o.message, '$.groupid'))
         ELSE CONCAT('x:', o.no)
       END,
       CASE
         WHEN JSON_TYPE(JSON_EXTRACT(o.message, '$.id')) = 'INTEGER'
           THEN JSON_EXTRACT(o.message, '$.id')
         ELSE 0
       END,
       FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000),
       JSON_SET(o.message, '$.msgno', CONCAT('legacy-', o.no))
FROM offlinemessage o
-- the service only ever stored encoded JSON objects; anything else was not written by it
WHERE JSON_VALID(o.message) AND JSON_TYPE(o.message) = 'OBJECT'
ORDER BY o.no;

INSERT INTO mailbox (userid, message_id, pending)
SELECT o.userid, m.id, 1
FROM offlinemessage o
JOIN message m ON m.msgno = CONCAT('legacy-', o.no);

DROP TABLE offlinemessage;
