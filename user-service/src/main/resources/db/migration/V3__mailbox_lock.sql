-- Appends for the same recipient run one after the other by locking that recipient's row
-- here, not the `user` row: the presence service writes `user.state` and logout writes
-- `user.tokens_revoked_at`, and they must never wait for a message append (nor for a node
-- frozen in the middle of one). For the same reason mailbox rows no longer lock their
-- `user` row through a foreign key: the service checks that recipients exist before it
-- stores, and users are never deleted.

CREATE TABLE mailbox_lock (
  userid INT NOT NULL,
  PRIMARY KEY (userid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE mailbox DROP FOREIGN KEY fk_mailbox_user;
