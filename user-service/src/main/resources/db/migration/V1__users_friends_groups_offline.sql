-- Accounts, friendships, groups and offline messages, as the classic server keeps them,
-- with room for real data: utf8mb4 everywhere, names compared exactly (utf8mb4_bin: no case
-- or accent folding, and every emoji is distinct), hashed passwords, unbounded messages.

CREATE TABLE `user` (
  id                INT          NOT NULL AUTO_INCREMENT,
  name              VARCHAR(64)  NOT NULL,
  password          VARCHAR(255) NOT NULL COMMENT 'pbkdf2-sha256$iterations$salt$hash',
  state             ENUM('online', 'offline') NOT NULL DEFAULT 'offline'
                    COMMENT 'mirror of the presence map, written by the presence service',
  state_version     BIGINT       NOT NULL DEFAULT 0,
  tokens_revoked_at BIGINT       NOT NULL DEFAULT 0
                    COMMENT 'epoch millis; resume tokens issued at or before it are void',
  PRIMARY KEY (id),
  UNIQUE KEY uk_user_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A friendship is stored in both directions.
CREATE TABLE friend (
  userid   INT NOT NULL,
  friendid INT NOT NULL,
  PRIMARY KEY (userid, friendid),
  KEY idx_friend_friendid (friendid),
  CONSTRAINT fk_friend_user FOREIGN KEY (userid) REFERENCES `user` (id) ON DELETE CASCADE,
  CONSTRAINT fk_friend_friend FOREIGN KEY (friendid) REFERENCES `user` (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE allgroup (
  id        INT          NOT NULL AUTO_INCREMENT,
  groupname VARCHAR(64)  NOT NULL,
  groupdesc VARCHAR(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY uk_allgroup_groupname (groupname)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE groupuser (
  groupid   INT NOT NULL,
  userid    INT NOT NULL,
  grouprole ENUM('creator', 'normal') NOT NULL DEFAULT 'normal',
  PRIMARY KEY (groupid, userid),
  KEY idx_groupuser_userid (userid),
  CONSTRAINT fk_groupuser_group FOREIGN KEY (groupid) REFERENCES allgroup (id) ON DELETE CASCADE,
  CONSTRAINT fk_groupuser_user FOREIGN KEY (userid) REFERENCES `user` (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per message kept for an offline user: the JSON object as it would have been
-- delivered. `no` orders them and lets the reader delete exactly what it delivered.
CREATE TABLE offlinemessage (
  no      BIGINT     NOT NULL AUTO_INCREMENT,
  userid  INT        NOT NULL,
  message MEDIUMTEXT NOT NULL,
  PRIMARY KEY (no),
  KEY idx_offlinemessage_user_no (userid, no),
  CONSTRAINT fk_offlinemessage_user FOREIGN KEY (userid) REFERENCES `user` (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Secrets every node must share, generated once by whichever node comes first.
CREATE TABLE cluster_secret (
  name   VARCHAR(32)  NOT NULL,
  secret VARCHAR(128) NOT NULL,
  PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
