/* SPDX-License-Identifier: MIT */
/*
 * core/store.c - the state db: SQLite in WAL mode, synchronous=FULL,
 * guarded by a run lock on "<path>.lock".  The only file that includes
 * sqlite3.h.  docs/STATE.md describes the schema, the states of volumes
 * and messages, and the recovery of PENDING volumes.
 *
 * Rules kept here:
 *  - nothing from the network is ever pasted into SQL text: every value
 *    is bound, UIDLs as blobs (any bytes), names as text;
 *  - every sqlite3_* result is checked and turned into a pv_code once, by
 *    dberr();
 *  - a file that is not ours, is damaged or is newer than us is refused
 *    before anything is written to it; a new file appears only complete
 *    (built under a temporary name, then linked into place).
 */
/* F_OFD_SETLK (lock_take) and nothing else: the build is Linux-only. */
#define _GNU_SOURCE

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "xmem.h"

/* PRAGMA application_id: "popv".  A foreign SQLite file has another one
 * (or 0) and is refused instead of being written to. */
#define STORE_APP_ID  0x706f7076
#define STORE_BUSY_MS 30000
/* Page cache cap, KiB.  Reading (the open's check, an account's rows)
 * goes through the OS's cache anyway: a big cache there only costs memory
 * and page faults (100,000 messages, nothing new: 0.9 s and 56 MB with 32
 * MiB, 0.77 s and 27 MB with 2 MiB).  A transaction that inserts many rows
 * at random places in the indexes wants one (100,000 inserts took 3x
 * longer with 2 MiB): store_reserve() raises it for that transaction. */
#define STORE_CACHE_KIB      2048
#define STORE_CACHE_BULK_KIB 32768
#define STORE_BULK_ROWS      32768
#define STORE_TMP_SUFFIX     ".new"
#define STORE_LOCK_SUFFIX    ".lock"

/*
 * Schema version 3.  Each later version adds a migration step in
 * migrate() and bumps STORE_SCHEMA_VERSION; this text always describes
 * the newest version, for new files.  The parts that a migration step
 * creates too are macros, so that a migrated file and a new one get the
 * very same text.
 *
 * Every per-message lookup is one B-tree search: messages by (account,
 * uidl) through the UNIQUE constraint (whose leading column also serves
 * "messages of an account"), blobs by their primary key, messages of a
 * volume through messages_by_volume, uploads of a target through their
 * UNIQUE (target_id, sha256) constraint.
 */

/* The messages table as of version 2 (version 1: volume_id NOT NULL);
 * TABLE is its name, so that migrate() can build it beside the old one. */
#define MESSAGES_SQL(table)                                                  \
	"CREATE TABLE " table " (\n"                                         \
	"  id INTEGER PRIMARY KEY,\n"                                        \
	"  account TEXT NOT NULL,\n"                                         \
	"  uidl BLOB NOT NULL,\n"                                            \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"              \
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"                       \
	"  list_size INTEGER NOT NULL CHECK (list_size >= 0),\n"             \
	"  message_id TEXT,\n"                                               \
	"  canon TEXT,\n"                                                    \
	"  date INTEGER NOT NULL,\n"                                         \
	"  date_off INTEGER NOT NULL,\n"                                     \
	"  date_src TEXT NOT NULL,\n"                                        \
	"  first_seen INTEGER NOT NULL,\n"                                   \
	"  volume_id INTEGER REFERENCES volumes (id),\n"                     \
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),\n"      \
	"  deleted_at INTEGER NOT NULL DEFAULT 0 CHECK (deleted_at >= 0),\n" \
	"  UNIQUE (account, uidl)\n"                                         \
	");\n"

#define MESSAGES_INDEX_SQL \
	"CREATE INDEX messages_by_volume ON messages (volume_id);\n"

/* New in version 2.  uploads has its own INTEGER PRIMARY KEY: "oldest
 * first" is by it, and unlike an implicit rowid it survives a VACUUM. */
#define TARGETS_SQL                                                 \
	"CREATE TABLE targets (\n"                                  \
	"  id INTEGER PRIMARY KEY,\n"                               \
	"  key TEXT NOT NULL,\n"                                    \
	"  folder TEXT NOT NULL,\n"                                 \
	"  uidvalidity INTEGER NOT NULL DEFAULT 0,\n"               \
	"  UNIQUE (key, folder)\n"                                  \
	");\n"                                                      \
	"CREATE TABLE uploads (\n"                                  \
	"  id INTEGER PRIMARY KEY,\n"                               \
	"  target_id INTEGER NOT NULL REFERENCES targets (id),\n"   \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"     \
	"  state INTEGER NOT NULL CHECK (state IN (0, 1)),\n"       \
	"  uidvalidity INTEGER NOT NULL,\n"                         \
	"  uid INTEGER NOT NULL,\n"                                 \
	"  uidnext INTEGER NOT NULL,\n"                             \
	"  internaldate INTEGER NOT NULL,\n"                        \
	"  date_off INTEGER NOT NULL,\n"                            \
	"  date_src TEXT NOT NULL,\n"                               \
	"  how TEXT,\n"                                             \
	"  recorded INTEGER NOT NULL,\n"                            \
	"  CHECK ((state = 0 AND how IS NULL) OR\n"                 \
	"         (state = 1 AND how IN ('appended', 'found'))),\n" \
	"  UNIQUE (target_id, sha256)\n"                            \
	");\n"

#define VOLUMES_SQL                                                     \
	"CREATE TABLE volumes (\n"                                      \
	"  id INTEGER PRIMARY KEY,\n"                                   \
	"  name TEXT NOT NULL UNIQUE,\n"                                \
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),\n" \
	"  created INTEGER NOT NULL\n"                                  \
	");\n" BLOBS_SQL("blobs")

/* The blobs table as of version 3 (version 2: sha256 alone was the key,
 * one copy of a content in all the volumes).  A content may be in more
 * than one volume: two accounts backed up at once may each store the
 * same message before either volume is durable. */
#define BLOBS_SQL(table)                                          \
	"CREATE TABLE " table " (\n"                              \
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"   \
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"            \
	"  volume_id INTEGER NOT NULL REFERENCES volumes (id),\n" \
	"  member TEXT NOT NULL,\n"                               \
	"  PRIMARY KEY (sha256, volume_id)\n"                     \
	") WITHOUT ROWID;\n"
#define BLOBS_INDEX_SQL "CREATE INDEX blobs_by_volume ON blobs (volume_id);\n"

#define RUNS_SQL                                            \
	"CREATE TABLE runs (\n"                             \
	"  id INTEGER PRIMARY KEY,\n"                       \
	"  command TEXT NOT NULL,\n"                        \
	"  started INTEGER NOT NULL,\n"                     \
	"  ended INTEGER,\n"                                \
	"  outcome TEXT\n"                                  \
	");\n"                                              \
	"CREATE TABLE run_accounts (\n"                     \
	"  run_id INTEGER NOT NULL REFERENCES runs (id),\n" \
	"  account TEXT NOT NULL,\n"                        \
	"  seen INTEGER NOT NULL,\n"                        \
	"  fetched INTEGER NOT NULL,\n"                     \
	"  stored INTEGER NOT NULL,\n"                      \
	"  dups INTEGER NOT NULL,\n"                        \
	"  deleted INTEGER NOT NULL,\n"                     \
	"  failed INTEGER NOT NULL,\n"                      \
	"  bytes INTEGER NOT NULL,\n"                       \
	"  code TEXT NOT NULL,\n"                           \
	"  error TEXT,\n"                                   \
	"  started INTEGER NOT NULL,\n"                     \
	"  ended INTEGER NOT NULL,\n"                       \
	"  PRIMARY KEY (run_id, account)\n"                 \
	") WITHOUT ROWID;\n"                                \
	"CREATE INDEX run_accounts_by_account ON run_accounts (account, ended);\n"

static const char schema_sql[] = VOLUMES_SQL BLOBS_INDEX_SQL MESSAGES_SQL(
    "messages") MESSAGES_INDEX_SQL RUNS_SQL TARGETS_SQL;

/*
 * Version 1 to 2: messages.volume_id becomes nullable (a message copied
 * to an IMAP target only has no volume).  SQLite cannot drop a NOT NULL
 * in place, so the table is rebuilt (https://sqlite.org/lang_altertable.html,
 * "making other kinds of table schema changes"): new table, copy, drop,
 * rename, indexes again.  migrate() runs it in one transaction with
 * foreign_keys off and checks them before COMMIT.
 */
#define MIGRATE_1_2_COPY_SQL                                              \
	"INSERT INTO messages_new (id, account, uidl, sha256, size, "     \
	"list_size, message_id, canon, date, date_off, date_src, "        \
	"first_seen, volume_id, state, deleted_at) "                      \
	"SELECT id, account, uidl, sha256, size, list_size, message_id, " \
	"canon, date, date_off, date_src, first_seen, volume_id, state, " \
	"deleted_at FROM messages;\n"                                     \
	"DROP TABLE messages;\n"                                          \
	"ALTER TABLE messages_new RENAME TO messages;\n"

static const char migrate_1_2_sql[] = MESSAGES_SQL("messages_new")
    MIGRATE_1_2_COPY_SQL MESSAGES_INDEX_SQL TARGETS_SQL
    "PRAGMA user_version = 2;\n";

/* Version 2 to 3: the blobs table keyed by (sha256, volume_id), rebuilt
 * the same way. */
static const char migrate_2_3_sql[] = BLOBS_SQL(
    "blobs_new") "INSERT INTO blobs_new (sha256, size, volume_id, member) "
                 "SELECT sha256, size, volume_id, member FROM blobs;\n"
                 "DROP TABLE blobs;\n"
                 "ALTER TABLE blobs_new RENAME TO blobs;\n" BLOBS_INDEX_SQL
                 "PRAGMA user_version = 3;\n";

/* The cached statements, prepared on first use, finalized by
 * store_close(). */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_MSG_GET,
	S_MSG_ADD,
	S_MSG_DELETED,
	S_BLOB_GET,
	S_BLOB_ADD,
	S_VOL_ADD,
	S_VOL_STATE,
	S_VOL_UNSTORED,
	S_VOL_DONE_MSGS,
	S_VOL_DONE,
	S_VOL_DURABLE_REFS,
	S_VOL_DROP_REFS,
	S_VOL_DROP_MSGS,
	S_VOL_DROP_BLOBS,
	S_VOL_DROP,
	S_VOL_PENDING,
	S_RUN_BEGIN,
	S_RUN_ACCT,
	S_RUN_END,
	S_STATUS,
	S_DONE_ALL,
	S_MSG_ADD_NOVOL,
	S_MSG_EACH_ALL,
	S_MSG_EACH_ACCT,
	S_MSG_KNOWN,
	S_SAVEPOINT,
	S_SP_RELEASE,
	S_SP_ROLLBACK,
	S_TGT_GET,
	S_TGT_ADD,
	S_TGT_RESET,
	S_TGT_SET_UV,
	S_TGT_EACH,
	S_TGT_STATUS,
	S_UPL_GET,
	S_UPL_INTENT,
	S_UPL_DONE,
	S_UPL_DROP,
	S_UPL_EACH,
	S_ALL_UNSTORED,
	S_ALL_DONE_MSGS,
	S_ALL_DONE,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_MSG_GET] = "SELECT account, uidl, sha256, size, list_size, "
                  "message_id, canon, date, date_off, date_src, first_seen, "
                  "volume_id, state, deleted_at "
                  "FROM messages WHERE account = ?1 AND uidl = ?2",
    /* Selecting from volumes makes a row for a volume that does not
     * exist or is DONE already impossible: it inserts nothing. */
    [S_MSG_ADD] =
        "INSERT INTO messages (account, uidl, sha256, size, "
        "list_size, message_id, canon, date, date_off, date_src, "
        "first_seen, volume_id, state, deleted_at) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, id, 0, 0 "
        "FROM volumes WHERE id = ?12 AND state = 0",
    /* The first deletion is the one that counts. */
    [S_MSG_DELETED] = "UPDATE messages SET deleted_at = "
                      "CASE deleted_at WHEN 0 THEN ?3 ELSE deleted_at END "
                      "WHERE account = ?1 AND uidl = ?2",
    /* Only a durable copy: a reference into a volume still being written
     * (by another account's run) would tie the two volumes' fates. */
    [S_BLOB_GET] = "SELECT v.name, b.member FROM blobs AS b "
                   "JOIN volumes AS v ON v.id = b.volume_id "
                   "WHERE b.sha256 = ?1 AND v.state = 1 "
                   "ORDER BY b.volume_id LIMIT 1",
    [S_BLOB_ADD] = "INSERT INTO blobs (sha256, size, volume_id, member) "
                   "SELECT ?1, ?2, id, ?4 FROM volumes "
                   "WHERE id = ?3 AND state = 0",
    [S_VOL_ADD] = "INSERT INTO volumes (name, state, created) "
                  "VALUES (?1, 0, ?2)",
    [S_VOL_STATE] = "SELECT state FROM volumes WHERE id = ?1",
    /* A message of volume ?1 whose bytes are in no volume, or in another
     * volume that is not durable yet: ?1 must not become DONE. */
    [S_VOL_UNSTORED] = "SELECT m.account, (SELECT min(b.volume_id) FROM blobs "
                       "AS b WHERE b.sha256 = m.sha256) FROM messages AS m "
                       "WHERE m.volume_id = ?1 AND NOT EXISTS (SELECT 1 "
                       "FROM blobs AS b JOIN volumes AS v ON "
                       "v.id = b.volume_id WHERE b.sha256 = m.sha256 AND "
                       "(b.volume_id = ?1 OR v.state = 1)) LIMIT 1",
    [S_VOL_DONE_MSGS] = "UPDATE messages SET state = 1 "
                        "WHERE volume_id = ?1 AND state = 0",
    [S_VOL_DONE] = "UPDATE volumes SET state = 1 WHERE id = ?1",
    /* A DONE message elsewhere whose bytes are in volume ?1. */
    [S_VOL_DURABLE_REFS] = "SELECT m.volume_id FROM messages AS m "
                           "JOIN blobs AS b ON b.sha256 = m.sha256 "
                           "WHERE b.volume_id = ?1 AND m.volume_id <> ?1 "
                           "AND m.state = 1 AND NOT EXISTS (SELECT 1 FROM "
                           "blobs AS o WHERE o.sha256 = m.sha256 AND "
                           "o.volume_id <> ?1) LIMIT 1",
    [S_VOL_DROP_REFS] = "DELETE FROM messages WHERE volume_id <> ?1 "
                        "AND state = 0 AND sha256 IN "
                        "(SELECT sha256 FROM blobs WHERE volume_id = ?1) "
                        "AND sha256 NOT IN (SELECT sha256 FROM blobs "
                        "WHERE volume_id <> ?1)",
    [S_VOL_DROP_MSGS] = "DELETE FROM messages WHERE volume_id = ?1",
    [S_VOL_DROP_BLOBS] = "DELETE FROM blobs WHERE volume_id = ?1",
    [S_VOL_DROP] = "DELETE FROM volumes WHERE id = ?1",
    [S_VOL_PENDING] = "SELECT id, name, state, created FROM volumes "
                      "WHERE state = 0 ORDER BY id",
    [S_RUN_BEGIN] = "INSERT INTO runs (command, started) VALUES (?1, ?2)",
    [S_RUN_ACCT] = "INSERT INTO run_accounts (run_id, account, seen, "
                   "fetched, stored, dups, deleted, failed, bytes, code, "
                   "error, started, ended) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                   "?12, ?13) "
                   "ON CONFLICT (run_id, account) DO UPDATE SET "
                   "seen = excluded.seen, fetched = excluded.fetched, "
                   "stored = excluded.stored, dups = excluded.dups, "
                   "deleted = excluded.deleted, failed = excluded.failed, "
                   "bytes = excluded.bytes, code = excluded.code, "
                   "error = excluded.error, started = excluded.started, "
                   "ended = excluded.ended",
    [S_RUN_END] = "UPDATE runs SET ended = ?2, outcome = ?3 WHERE id = ?1",
    /* One pass over messages for the aggregates; the run history per
     * account through run_accounts_by_account.  Accounts known only from
     * runs (every run failed) are listed too. */
    [S_STATUS] =
        "WITH m AS (SELECT account, "
        "  sum(state = 1) AS done, "
        "  sum(CASE WHEN state = 1 THEN size ELSE 0 END) AS bytes, "
        "  sum(state = 0) AS pending, "
        "  sum(deleted_at <> 0) AS deleted, "
        "  max(CASE WHEN state = 1 THEN first_seen END) AS newest "
        "  FROM messages GROUP BY account), "
        "a AS (SELECT account FROM m UNION SELECT account FROM run_accounts) "
        "SELECT a.account, coalesce(m.done, 0), coalesce(m.bytes, 0), "
        "  coalesce(m.pending, 0), coalesce(m.deleted, 0), "
        "  coalesce(m.newest, 0), "
        "  coalesce((SELECT max(r.ended) FROM run_accounts AS r "
        "    WHERE r.account = a.account AND r.code = 'ok'), 0), "
        "  coalesce((SELECT r.ended FROM run_accounts AS r "
        "    WHERE r.account = a.account AND r.code <> 'ok' "
        "    ORDER BY r.ended DESC, r.run_id DESC LIMIT 1), 0), "
        "  (SELECT r.error FROM run_accounts AS r "
        "    WHERE r.account = a.account AND r.code <> 'ok' "
        "    ORDER BY r.ended DESC, r.run_id DESC LIMIT 1), "
        "  (SELECT r.code FROM run_accounts AS r "
        "    WHERE r.account = a.account "
        "    ORDER BY r.ended DESC, r.run_id DESC LIMIT 1) "
        "FROM a LEFT JOIN m ON m.account = a.account ORDER BY a.account",
    /* Volumes first (k = 0), then messages grouped by account, so that a
     * caller can count per account as the rows come. */
    [S_DONE_ALL] = "SELECT 0 AS k, name, NULL, NULL FROM volumes "
                   "WHERE state = 1 "
                   "UNION ALL SELECT 1, NULL, account, sha256 FROM messages "
                   "WHERE state = 1 AND volume_id IS NOT NULL "
                   "ORDER BY k, 3",
    /* No volume (an IMAP target only): DONE at once. */
    [S_MSG_ADD_NOVOL] =
        "INSERT INTO messages (account, uidl, sha256, size, "
        "list_size, message_id, canon, date, date_off, date_src, "
        "first_seen, volume_id, state, deleted_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, 1, 0)",
    /* Two statements rather than "?1 IS NULL OR account = ?1", which
     * would keep the planner from the (account, uidl) index. */
    [S_MSG_EACH_ALL] = "SELECT account, uidl, sha256, size, list_size, "
                       "message_id, canon, date, date_off, date_src, "
                       "first_seen, volume_id, state, deleted_at "
                       "FROM messages ORDER BY account, id",
    [S_MSG_EACH_ACCT] = "SELECT account, uidl, sha256, size, list_size, "
                        "message_id, canon, date, date_off, date_src, "
                        "first_seen, volume_id, state, deleted_at "
                        "FROM messages WHERE account = ?1 ORDER BY id",
    /* In index order: no sort, so no memory for one. */
    [S_MSG_KNOWN] = "SELECT uidl, state, first_seen, sha256 FROM messages "
                    "WHERE account = ?1 ORDER BY uidl",
    [S_SAVEPOINT] = "SAVEPOINT store_sp",
    [S_SP_RELEASE] = "RELEASE store_sp",
    [S_SP_ROLLBACK] = "ROLLBACK TO store_sp",
    [S_TGT_GET] = "SELECT id, uidvalidity FROM targets "
                  "WHERE key = ?1 AND folder = ?2",
    [S_TGT_ADD] = "INSERT INTO targets (key, folder, uidvalidity) "
                  "VALUES (?1, ?2, ?3)",
    [S_TGT_RESET] = "DELETE FROM uploads WHERE target_id = ?1",
    [S_TGT_SET_UV] = "UPDATE targets SET uidvalidity = ?2 WHERE id = ?1",
    [S_TGT_EACH] = "SELECT id, key, folder, uidvalidity FROM targets "
                   "WHERE key = ?1 ORDER BY folder",
    [S_TGT_STATUS] =
        "SELECT t.key, t.folder, "
        "coalesce(sum(u.state = 1 AND u.how = 'appended'), 0), "
        "coalesce(sum(u.state = 1 AND u.how = 'found'), 0), "
        "coalesce(sum(u.state = 0), 0), coalesce(max(u.recorded), 0) "
        "FROM targets t LEFT JOIN uploads u ON u.target_id = t.id "
        "GROUP BY t.id ORDER BY t.key, t.folder",
    [S_UPL_GET] = "SELECT sha256, state, uidvalidity, uid, uidnext, "
                  "internaldate, date_off, date_src, how, recorded "
                  "FROM uploads WHERE target_id = ?1 AND sha256 = ?2",
    /* A DONE row stays as it is: no change, which the caller reports. */
    [S_UPL_INTENT] =
        "INSERT INTO uploads (target_id, sha256, state, uidvalidity, uid, "
        "uidnext, internaldate, date_off, date_src, how, recorded) "
        "VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9) "
        "ON CONFLICT (target_id, sha256) DO UPDATE SET state = 0, "
        "uidvalidity = excluded.uidvalidity, uid = excluded.uid, "
        "uidnext = excluded.uidnext, internaldate = excluded.internaldate, "
        "date_off = excluded.date_off, date_src = excluded.date_src, "
        "how = NULL, recorded = excluded.recorded WHERE state = 0",
    [S_UPL_DONE] =
        "INSERT INTO uploads (target_id, sha256, state, uidvalidity, uid, "
        "uidnext, internaldate, date_off, date_src, how, recorded) "
        "VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (target_id, sha256) DO UPDATE SET state = 1, "
        "uidvalidity = excluded.uidvalidity, uid = excluded.uid, "
        "uidnext = excluded.uidnext, internaldate = excluded.internaldate, "
        "date_off = excluded.date_off, date_src = excluded.date_src, "
        "how = excluded.how, recorded = excluded.recorded",
    [S_UPL_DROP] = "DELETE FROM uploads WHERE target_id = ?1 "
                   "AND sha256 = ?2 AND state = 0",
    [S_UPL_EACH] = "SELECT sha256, state, uidvalidity, uid, uidnext, "
                   "internaldate, date_off, date_src, how, recorded "
                   "FROM uploads WHERE target_id = ?1 AND state = ?2 "
                   "ORDER BY id",
    /* store_volumes_done_all: a PENDING message whose bytes are in no
     * volume at all. */
    [S_ALL_UNSTORED] = "SELECT m.account FROM messages AS m "
                       "WHERE m.state = 0 AND m.volume_id IS NOT NULL "
                       "AND NOT EXISTS (SELECT 1 FROM blobs AS b "
                       "WHERE b.sha256 = m.sha256) LIMIT 1",
    [S_ALL_DONE_MSGS] = "UPDATE messages SET state = 1 "
                        "WHERE state = 0 AND volume_id IS NOT NULL",
    [S_ALL_DONE] = "UPDATE volumes SET state = 1 WHERE state = 0",
};

struct store {
	sqlite3 *db;
	char *path;   /* owned */
	int lockfd;   /* the run lock; -1 when read-only or in memory */
	bool rdonly;  /* STORE_READONLY */
	bool bulk;    /* the page cache is raised (store_reserve) */
	bool created; /* this open created the file */
	char *tmp;    /* STORE_NEW until store_publish: the file being
	                 built ("<path>.new"), removed by store_close */
	sqlite3_stmt *stmt[S_COUNT];
};

/*
 * The one place where an SQLite failure becomes a pv_code.  It reads the
 * connection's last error, so call it right after the failing call.
 */
static enum pv_code
dberr(struct store *st, const char *what, struct pv_err *err)
{
	enum pv_code code;
	int xrc;

	if (st->db == NULL)
		return pv_errf(err, PV_EINTERNAL, "state %s: %s: out of memory",
		    st->path, what);
	xrc = sqlite3_extended_errcode(st->db);
	switch (xrc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = PV_EIO;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_PROTOCOL:
		code = PV_EBUSY;
		break;
	case SQLITE_NOMEM:
	default:
		/* Constraint violations, misuse, SQL errors: our bug. */
		code = PV_EINTERNAL;
		break;
	}
	return pv_errf(err, code, "state %s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

static enum pv_code
prep(struct store *st, enum stmt_id id, sqlite3_stmt **out, struct pv_err *err)
{
	if (st->stmt[id] == NULL &&
	    sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
	        SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL) != SQLITE_OK)
		return dberr(st, "prepare", err);
	*out = st->stmt[id];
	return PV_OK;
}

/* Make a cached statement ready for its next use.  Their results only
 * repeat the error of the last step, which the caller has mapped. */
static void
release(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
}

/* Bind helpers: they return SQLite's code; a NULL string binds NULL. */
static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Any bytes, compared with memcmp; the length was checked by
 * check_uidl().  An empty UIDL is a zero-length blob, never NULL. */
static int
bind_uidl(sqlite3_stmt *s, int i, const char *p, size_t n)
{
	if (n == 0)
		return sqlite3_bind_zeroblob(s, i, 0);
	return sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);
}

/* A bind failed: map the error first (resetting the statement would
 * clear it), then make the statement ready again. */
static enum pv_code
bind_failed(struct store *st, sqlite3_stmt *s, const char *what,
    struct pv_err *err)
{
	enum pv_code rc = dberr(st, what, err);

	release(s);
	return rc;
}

/* Step a statement that returns no row; reset it either way.  *changes
 * (if non-NULL) receives the number of rows it changed. */
static enum pv_code
run_stmt(struct store *st, sqlite3_stmt *s, const char *what, int *changes,
    struct pv_err *err)
{
	enum pv_code rc = PV_OK;

	if (sqlite3_step(s) != SQLITE_DONE)
		rc = dberr(st, what, err);
	else if (changes != NULL)
		*changes = sqlite3_changes(st->db);
	release(s);
	return rc;
}

/* Run a cached statement that takes only an id as ?1. */
static enum pv_code
run_id(struct store *st, enum stmt_id id, int64_t v, const char *what,
    int *changes, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = prep(st, id, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, v) != SQLITE_OK)
		return bind_failed(st, s, what, err);
	return run_stmt(st, s, what, changes, err);
}

/* A heap copy of column i, NUL-terminated (*len without the NUL), or
 * NULL for an SQL NULL.  False only if SQLite ran out of memory. */
static bool
col_copy(sqlite3_stmt *s, int i, char **out, size_t *len)
{
	const void *p;
	char *c;
	int n;

	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		*out = NULL;
		*len = 0;
		return true;
	}
	/* NULL is also a zero-length value: only sqlite3_errcode(), asked
	 * at once, tells it from out-of-memory. */
	p = sqlite3_column_blob(s, i);
	if (p == NULL && sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM)
		return false;
	n = sqlite3_column_bytes(s, i);
	if (p == NULL || n < 0)
		n = 0;
	c = xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(c, p, (size_t)n);
	c[n] = '\0';
	*out = c;
	*len = (size_t)n;
	return true;
}

/* A hex digest column into a char[65] ("" for NULL). */
static void
col_hex(sqlite3_stmt *s, int i, char dst[65])
{
	const unsigned char *t = sqlite3_column_text(s, i);
	int n = sqlite3_column_bytes(s, i);

	if (t == NULL || n <= 0) {
		dst[0] = '\0';
		return;
	}
	if (n > 64)
		n = 64;
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* free() for the const char * fields of a result. */
static void
free_const(const void *p)
{
	void *q;

	memcpy(&q, &p, sizeof(q));
	free(q);
}

static enum pv_code
writable(struct store *st, const char *what, struct pv_err *err)
{
	if (st->rdonly)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: %s: opened read-only", st->path, what);
	return PV_OK;
}

static enum pv_code
check_uidl(struct store *st, const char *account, const char *uidl, size_t len,
    struct pv_err *err)
{
	if (account == NULL || (uidl == NULL && len > 0) || len > INT_MAX)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: bad account or UIDL", st->path);
	return PV_OK;
}

static enum pv_code
check_u64(struct store *st, uint64_t v, const char *what, struct pv_err *err)
{
	if (v > (uint64_t)INT64_MAX)
		return pv_errf(err, PV_EINTERNAL, "state %s: %s out of range",
		    st->path, what);
	return PV_OK;
}

static bool
in_tx(struct store *st)
{
	return sqlite3_get_autocommit(st->db) == 0;
}

static enum pv_code
tx_begin(struct store *st, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = prep(st, S_BEGIN, &s, err);
	if (rc != PV_OK)
		return rc;
	return run_stmt(st, s, "begin transaction", NULL, err);
}

static void
tx_rollback(struct store *st)
{
	struct pv_err e2;
	sqlite3_stmt *s = NULL;

	/* SQLite may have rolled back already (after an I/O error). */
	if (!in_tx(st))
		return;
	if (prep(st, S_ROLLBACK, &s, &e2) != PV_OK ||
	    run_stmt(st, s, "rollback", NULL, &e2) != PV_OK)
		log_warnx("%s", e2.msg);
}

/* COMMIT; on failure the transaction is rolled back, so that the store is
 * never left inside a half-failed one. */
static enum pv_code
tx_commit(struct store *st, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = prep(st, S_COMMIT, &s, err);
	if (rc == PV_OK)
		rc = run_stmt(st, s, "commit", NULL, err);
	if (rc != PV_OK)
		tx_rollback(st);
	return rc;
}

/* sqlite3_exec() of constant SQL (never anything from outside). */
static enum pv_code
exec_sql(struct store *st, const char *sql, const char *what,
    struct pv_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(st, what, err);
	return PV_OK;
}

/* One integer from a constant query (a PRAGMA). */
static enum pv_code
query_int(struct store *st, const char *sql, int64_t *v, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return dberr(st, sql, err);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = dberr(st, sql, err);
	} else {
		*v = sqlite3_column_int64(s, 0);
		rc = PV_OK;
	}
	(void)sqlite3_finalize(s); /* repeats the step's result */
	return rc;
}

/* ---- the run lock ---- */

/* Text for PV_EBUSY: the holder's pid, as it wrote it into the lock
 * file. */
static enum pv_code
lock_busy(struct store *st, int fd, struct pv_err *err)
{
	char b[32], *end;
	ssize_t n;
	long pid = 0;

	n = pread(fd, b, sizeof(b) - 1, 0);
	if (n > 0) {
		b[n] = '\0';
		errno = 0;
		pid = strtol(b, &end, 10);
		if (errno != 0 || end == b || (*end != '\n' && *end != '\0'))
			pid = 0;
	}
	if (pid <= 0)
		return pv_errf(err, PV_EBUSY,
		    "state %s is in use by another popvault run (pid unknown)",
		    st->path);
	return pv_errf(err, PV_EBUSY,
	    "state %s is in use by another popvault run (pid %ld)", st->path,
	    pid);
}

/*
 * Take the run lock: a write lock on all of "<path>.lock", created 0600,
 * which then holds our pid as text.  An open-file-description lock
 * (F_OFD_SETLK) rather than a classic F_SETLK one: it conflicts across
 * processes just the same, but also between two opens in one process,
 * and closing some other descriptor of the file does not drop it.  It is
 * never waited for: a second run fails at once with PV_EBUSY.
 */
static enum pv_code
lock_take(struct store *st, struct pv_err *err)
{
	struct flock fl;
	char *lpath, pid[32];
	int fd, n;
	enum pv_code rc;

	lpath = xasprintf("%s%s", st->path, STORE_LOCK_SUFFIX);
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		rc = pv_errf(err, PV_EIO, "cannot create state lock %s: %s",
		    lpath, strerror(errno));
		goto out;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			rc = lock_busy(st, fd, err);
		else
			rc = pv_errf(err, PV_EIO, "state lock %s: %s", lpath,
			    strerror(errno));
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(pid)) {
		rc = pv_errf(err, PV_EINTERNAL, "cannot format a pid");
		goto fail;
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = pv_errf(err, PV_EIO, "state lock %s: %s", lpath,
		    strerror(errno));
		goto fail;
	}
	st->lockfd = fd;
	rc = PV_OK;
	goto out;
fail:
	(void)close(fd);
out:
	free(lpath);
	return rc;
}

static void
lock_release(struct store *st)
{
	if (st->lockfd == -1)
		return;
	/* Empty it while still holding it: a stale pid would mislead. */
	if (ftruncate(st->lockfd, 0) == -1)
		log_warn("state lock %s%s", st->path, STORE_LOCK_SUFFIX);
	(void)close(st->lockfd);
	st->lockfd = -1;
}

/* ---- creating and checking the file ---- */

static enum pv_code
fsync_file(const char *path, struct pv_err *err)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return pv_errf(err, PV_EIO, "%s: %s", path, strerror(errno));
	if (fsync(fd) == -1) {
		(void)close(fd);
		return pv_errf(err, PV_EIO, "fsync %s: %s", path,
		    strerror(errno));
	}
	(void)close(fd);
	return PV_OK;
}

/* Make a new name in the directory of 'path' durable. */
static enum pv_code
fsync_parent(const char *path, struct pv_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;
	enum pv_code rc = PV_OK;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		rc = pv_errf(err, PV_EIO, "%s: %s", dir, strerror(errno));
	} else {
		/* Some file systems cannot sync a directory (EINVAL). */
		if (fsync(fd) == -1 && errno != EINVAL)
			rc = pv_errf(err, PV_EIO, "fsync %s: %s", dir,
			    strerror(errno));
		(void)close(fd);
	}
	free(dir);
	return rc;
}

/* Tables, indexes, application_id and user_version, all in one
 * transaction: a file either has the whole schema or none of it. */
static enum pv_code
init_schema(struct store *st, struct pv_err *err)
{
	char *pragmas;
	enum pv_code rc;

	pragmas = xasprintf("PRAGMA application_id = %d;\n"
	                    "PRAGMA user_version = %d;\n",
	    STORE_APP_ID, STORE_SCHEMA_VERSION);
	rc = exec_sql(st, "BEGIN IMMEDIATE", "create schema", err);
	if (rc != PV_OK)
		goto out;
	rc = exec_sql(st, schema_sql, "create schema", err);
	if (rc == PV_OK)
		rc = exec_sql(st, pragmas, "create schema", err);
	if (rc == PV_OK)
		rc = exec_sql(st, "COMMIT", "create schema", err);
	if (rc != PV_OK)
		tx_rollback(st);
out:
	free(pragmas);
	return rc;
}

/* Remove base + each suffix in sfx (NULL-terminated); false if one
 * existed.  Only under the run lock. */
static bool
unlink_side(const char *base, const char *const *sfx)
{
	bool none = true;
	size_t i;

	for (i = 0; sfx[i] != NULL; i++) {
		char *p = xasprintf("%s%s", base, sfx[i]);

		if (unlink(p) == 0)
			none = false;
		else if (errno != ENOENT)
			log_warn("%s", p);
		free(p);
	}
	return none;
}

static const char *const tmp_files[] = {"", "-journal", "-wal", "-shm", NULL};
static const char *const side_files[] = {"-journal", "-wal", "-shm", NULL};

/* Build a new state db with its schema as 'tmp' (we hold the run lock,
 * so the name is ours), left open in st->db. */
static enum pv_code
build_tmp(struct store *st, const char *tmp, struct pv_err *err)
{
	enum pv_code rc;

	(void)unlink_side(tmp, tmp_files);
	if (sqlite3_open_v2(tmp, &st->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		return dberr(st, "create", err);
	if (sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK)
		return dberr(st, "create", err);
	rc = exec_sql(st, "PRAGMA synchronous = FULL", "create", err);
	if (rc == PV_OK)
		rc = init_schema(st, err);
	return rc;
}

/* Close the database built as 'tmp', make it durable, then link it into
 * place, which fails rather than replace a file that appeared meanwhile.
 * On failure 'tmp' is removed. */
static enum pv_code
publish_tmp(struct store *st, const char *tmp, struct pv_err *err)
{
	enum pv_code rc;

	if (sqlite3_close(st->db) != SQLITE_OK) {
		rc = dberr(st, "create", err);
		goto fail;
	}
	st->db = NULL;
	/* Account names, UIDLs and Message-IDs are nobody else's business;
	 * SQLite gives its -wal and -shm files the same mode. */
	if (chmod(tmp, 0600) == -1) {
		rc = pv_errf(err, PV_EIO, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	rc = fsync_file(tmp, err);
	if (rc != PV_OK)
		goto fail;
	/* A -wal left by a lost state file would be replayed into the new
	 * one (SQLite cannot tell whose it is): without its db it holds
	 * nothing that can be recovered. */
	if (!unlink_side(st->path, side_files))
		log_warnx(
		    "state %s: removed the -wal/-shm/-journal files of a state file that no longer exists",
		    st->path);
	if (link(tmp, st->path) == -1) {
		struct stat sb;

		if (errno == EEXIST) {
			rc = pv_errf(err, PV_EIO,
			    "state %s appeared while it was being created",
			    st->path);
			goto fail;
		}
		/* No hard links on this file system (vfat): rename, which
		 * under our lock replaces nothing but a racing stranger. */
		if (lstat(st->path, &sb) == 0 || errno != ENOENT ||
		    rename(tmp, st->path) == -1) {
			rc = pv_errf(err, PV_EIO, "create state %s: %s",
			    st->path, strerror(errno));
			goto fail;
		}
	} else if (unlink(tmp) == -1) {
		log_warn("%s", tmp);
	}
	rc = fsync_parent(st->path, err);
	if (rc != PV_OK)
		return rc;
	st->created = true;
	log_info("created state %s", st->path);
	return PV_OK;
fail:
	if (st->db != NULL) {
		(void)sqlite3_close(st->db); /* failing anyway */
		st->db = NULL;
	}
	(void)unlink_side(tmp, tmp_files);
	return rc;
}

/*
 * A new state file, complete or not at all: build it as "<path>.new",
 * make it durable, then link it into place.  A run killed half-way
 * leaves no "<path>" at all, so every existing file can be held to the
 * strict checks of check_file().
 */
static enum pv_code
create_file(struct store *st, struct pv_err *err)
{
	char *tmp;
	enum pv_code rc;

	tmp = xasprintf("%s%s", st->path, STORE_TMP_SUFFIX);
	rc = build_tmp(st, tmp, err);
	if (rc == PV_OK) {
		rc = publish_tmp(st, tmp, err);
	} else {
		if (st->db != NULL) {
			(void)sqlite3_close(st->db); /* failing anyway */
			st->db = NULL;
		}
		(void)unlink_side(tmp, tmp_files);
	}
	free(tmp);
	return rc;
}

static enum pv_code
damaged(struct store *st, struct pv_err *err)
{
	return pv_errf(err, PV_EIO,
	    "state %s is damaged or is not an SQLite database (%s); refusing to use it",
	    st->path, sqlite3_errmsg(st->db));
}

/*
 * Is this our file, intact and not too new?  Reads only: nothing is
 * written to a file that fails here.  Sets *version.
 */
static enum pv_code
check_file(struct store *st, int64_t *version, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int64_t appid = 0, uv = 0;
	int src;
	enum pv_code rc;

	rc = query_int(st, "PRAGMA application_id", &appid, err);
	if (rc == PV_OK)
		rc = query_int(st, "PRAGMA user_version", &uv, err);
	if (rc == PV_EIO)
		return damaged(st, err);
	if (rc != PV_OK)
		return rc;
	if (appid != STORE_APP_ID)
		return pv_errf(err, PV_ECONFIG, "%s is not a popvault state db",
		    st->path);
	if (uv > STORE_SCHEMA_VERSION)
		return pv_errf(err, PV_ECONFIG,
		    "state %s has schema version %" PRId64
		    "; this popvault knows up to %d: upgrade popvault",
		    st->path, uv, STORE_SCHEMA_VERSION);
	if (uv < 1)
		return pv_errf(err, PV_EIO,
		    "state %s is damaged (schema version %" PRId64
		    "); refusing to use it",
		    st->path, uv);
	/*
	 * The header can be intact over a damaged body (a truncated copy, a
	 * bad disk).  quick_check reads every page once: O(size of the db),
	 * measured at about 0.1 s of CPU for 100,000 messages (a 55 MB file)
	 * and 2 s for a million, once per run; it is what stands between a
	 * damaged file and the delete gate.
	 */
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) !=
	    SQLITE_OK)
		return dberr(st, "quick_check", err);
	src = sqlite3_step(s);
	if (src != SQLITE_ROW) {
		rc = dberr(st, "quick_check", err);
		if (rc == PV_EIO)
			rc = damaged(st, err);
	} else {
		t = sqlite3_column_text(s, 0);
		if (t == NULL)
			rc = dberr(st, "quick_check", err);
		else if (strcmp((const char *)t, "ok") != 0)
			rc = pv_errf(err, PV_EIO,
			    "state %s is damaged (%s); refusing to use it",
			    st->path, (const char *)t);
	}
	(void)sqlite3_finalize(s); /* repeats the step's result */
	if (rc == PV_OK)
		*version = uv;
	return rc;
}

/* PRAGMA foreign_key_check: any row is a reference the step broke. */
static enum pv_code
fk_check(struct store *st, const char *what, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc = PV_OK;

	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s,
	        NULL) != SQLITE_OK)
		return dberr(st, what, err);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		rc = pv_errf(err, PV_EIO,
		    "state %s: %s: table %s has a row whose reference is broken; refusing to use it",
		    st->path, what, t != NULL ? (const char *)t : "?");
	} else if (src != SQLITE_DONE) {
		rc = dberr(st, what, err);
	}
	(void)sqlite3_finalize(s); /* repeats the step's result */
	return rc;
}

/* One step, from 'from' to from + 1, in one transaction with its
 * user_version bump.  A table rebuild must not fire the foreign key
 * actions of the table it drops, and PRAGMA foreign_keys cannot change
 * inside a transaction: so it is switched off around the transaction and
 * the keys are checked before COMMIT instead. */
static enum pv_code
migrate_step(struct store *st, int64_t from, const char *sql,
    struct pv_err *err)
{
	struct pv_err e2;
	char *what;
	enum pv_code rc, rc2;

	what = xasprintf("migrate from schema version %" PRId64, from);
	rc = exec_sql(st, "PRAGMA foreign_keys = OFF", what, err);
	if (rc != PV_OK)
		goto out;
	rc = tx_begin(st, err);
	if (rc == PV_OK) {
		rc = exec_sql(st, sql, what, err);
		if (rc == PV_OK)
			rc = fk_check(st, what, err);
		if (rc == PV_OK)
			rc = tx_commit(st, err);
		else
			tx_rollback(st);
	}
	/* On again whatever happened; a failure here is reported only if
	 * nothing failed before. */
	rc2 = exec_sql(st, "PRAGMA foreign_keys = ON", what,
	    rc == PV_OK ? err : &e2);
	if (rc == PV_OK)
		rc = rc2;
	if (rc == PV_OK)
		log_info("state %s: schema upgraded from version %" PRId64
		         " to %" PRId64,
		    st->path, from, from + 1);
out:
	free(what);
	return rc;
}

/*
 * Bring an older schema forward, one version at a time, each step in one
 * transaction with its user_version bump (migrate_step), so that a crash
 * leaves either the old version or the new one.  To add version N + 1:
 * a case N here, the new tables in schema_sql, STORE_SCHEMA_VERSION, and
 * a unit test that opens a version-N file.
 */
static enum pv_code
migrate(struct store *st, int64_t from, struct pv_err *err)
{
	enum pv_code rc = PV_OK;

	if (from == STORE_SCHEMA_VERSION)
		return PV_OK;
	if (st->rdonly)
		return pv_errf(err, PV_ECONFIG,
		    "state %s has schema version %" PRId64
		    "; run a backup once to upgrade it",
		    st->path, from);
	while (rc == PV_OK && from < STORE_SCHEMA_VERSION) {
		switch (from) {
		case 1:
			rc = migrate_step(st, from, migrate_1_2_sql, err);
			break;
		case 2:
			rc = migrate_step(st, from, migrate_2_3_sql, err);
			break;
		default:
			return pv_errf(err, PV_EINTERNAL,
			    "state %s: no migration from schema version %" PRId64,
			    st->path, from);
		}
		from++;
	}
	return rc;
}

static enum pv_code
cache_kib(struct store *st, int kib, struct pv_err *err)
{
	char *sql;
	enum pv_code rc;

	sql = xasprintf("PRAGMA cache_size = -%d", kib);
	rc = exec_sql(st, sql, "pragmas", err);
	free(sql);
	return rc;
}

static enum pv_code
set_cache(struct store *st, struct pv_err *err)
{
	return cache_kib(st, STORE_CACHE_KIB, err);
}

enum pv_code
store_reserve(struct store *st, size_t rows, struct pv_err *err)
{
	bool bulk = rows >= STORE_BULK_ROWS;
	enum pv_code rc;

	if (bulk == st->bulk)
		return PV_OK;
	rc = cache_kib(st, bulk ? STORE_CACHE_BULK_KIB : STORE_CACHE_KIB, err);
	if (rc == PV_OK)
		st->bulk = bulk;
	return rc;
}

static enum pv_code
open_file(struct store *st, struct pv_err *err)
{
	struct stat sb;
	int64_t version = 0;
	char *mode = NULL;
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	if (stat(st->path, &sb) == -1) {
		if (errno == ENOENT)
			return pv_errf(err, PV_ECONFIG, "no state at %s",
			    st->path);
		return pv_errf(err, PV_EIO, "state %s: %s", st->path,
		    strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return pv_errf(err, PV_ECONFIG,
		    "state %s is not a regular file", st->path);
	/* SQLite would take an empty file for an empty database and write
	 * a schema into it.  We never make one (create_file), so an empty
	 * file is somebody else's, or what is left of ours. */
	if (sb.st_size == 0)
		return pv_errf(err, PV_EIO,
		    "state %s is empty: damaged or not a popvault state db; refusing to use it",
		    st->path);
	if (sqlite3_open_v2(st->path, &st->db,
	        st->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
	        NULL) != SQLITE_OK)
		return dberr(st, "open", err);
	if (sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	        SQLITE_OK)
		return dberr(st, "open", err);
	rc = check_file(st, &version, err);
	if (rc != PV_OK)
		return rc;
	if (!st->rdonly) {
		/* Only now may anything be written. */
		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1,
		        &s, NULL) != SQLITE_OK)
			return dberr(st, "journal_mode", err);
		if (sqlite3_step(s) != SQLITE_ROW) {
			rc = dberr(st, "journal_mode", err);
		} else {
			const unsigned char *t = sqlite3_column_text(s, 0);

			if (t != NULL)
				mode = xstrdup((const char *)t);
		}
		(void)sqlite3_finalize(s); /* repeats the step's result */
		if (rc != PV_OK)
			return rc;
		if (mode == NULL || strcmp(mode, "wal") != 0)
			rc = pv_errf(err, PV_EIO,
			    "state %s: cannot use WAL mode (journal_mode is %s)",
			    st->path, mode != NULL ? mode : "unknown");
		free(mode);
		if (rc != PV_OK)
			return rc;
		rc = exec_sql(st,
		    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
		    "pragmas", err);
		if (rc != PV_OK)
			return rc;
	}
	rc = set_cache(st, err);
	if (rc != PV_OK)
		return rc;
	return migrate(st, version, err);
}

static enum pv_code
open_memory(struct store *st, struct pv_err *err)
{
	enum pv_code rc;

	if (sqlite3_open_v2(":memory:", &st->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		return dberr(st, "open", err);
	if (sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK)
		return dberr(st, "open", err);
	rc = init_schema(st, err);
	if (rc == PV_OK)
		rc = exec_sql(st, "PRAGMA foreign_keys = ON", "pragmas", err);
	return rc;
}

/* STORE_NEW: the schema in "<path>.new", open there until
 * store_publish(); store_close() removes it. */
static enum pv_code
create_new(struct store *st, struct pv_err *err)
{
	enum pv_code rc;

	st->tmp = xasprintf("%s%s", st->path, STORE_TMP_SUFFIX);
	rc = build_tmp(st, st->tmp, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	        SQLITE_OK)
		return dberr(st, "create", err);
	rc = exec_sql(st, "PRAGMA foreign_keys = ON", "pragmas", err);
	if (rc == PV_OK)
		rc = set_cache(st, err);
	if (rc == PV_OK)
		st->created = true;
	return rc;
}

static enum pv_code
exists_already(const char *path, struct pv_err *err)
{
	return pv_errf(err, PV_ECONFIG,
	    "state %s exists: a new state is made only where there is none",
	    path);
}

enum pv_code
store_open(const char *path, unsigned flags, struct store **out,
    struct pv_err *err)
{
	struct store *st;
	struct stat sb;
	enum pv_code rc;

	if ((flags & STORE_CREATE) && (flags & STORE_READONLY))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: STORE_CREATE with STORE_READONLY", path);
	if ((flags & STORE_NEW) && ((flags & (STORE_CREATE | STORE_READONLY)) ||
	                               strcmp(path, ":memory:") == 0))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: STORE_NEW with other flags", path);
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->lockfd = -1;
	st->rdonly = (flags & STORE_READONLY) != 0;
	if (strcmp(path, ":memory:") == 0) {
		if (!(flags & STORE_CREATE)) {
			rc = pv_errf(err, PV_EINTERNAL,
			    "state :memory: needs STORE_CREATE");
			goto fail;
		}
		rc = open_memory(st, err);
		if (rc != PV_OK)
			goto fail;
		goto ok;
	}
	/* Look before locking, so that a mistyped path leaves no stray
	 * lock file behind. */
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT) {
			rc = pv_errf(err, PV_EIO, "state %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (!(flags & (STORE_CREATE | STORE_NEW))) {
			rc = pv_errf(err, PV_ECONFIG, "no state at %s", path);
			goto fail;
		}
	} else if (flags & STORE_NEW) {
		rc = exists_already(path, err);
		goto fail;
	} else if (!S_ISREG(sb.st_mode)) {
		rc = pv_errf(err, PV_ECONFIG, "state %s is not a regular file",
		    path);
		goto fail;
	}
	if (!st->rdonly) {
		rc = lock_take(st, err);
		if (rc != PV_OK)
			goto fail;
		/* Again, now that nobody else can be creating it. */
		if (stat(path, &sb) == -1) {
			if (errno != ENOENT) {
				rc = pv_errf(err, PV_EIO, "state %s: %s", path,
				    strerror(errno));
				goto fail;
			}
			if (!(flags & (STORE_CREATE | STORE_NEW))) {
				rc = pv_errf(err, PV_ECONFIG, "no state at %s",
				    path);
				goto fail;
			}
			if (flags & STORE_NEW) {
				rc = create_new(st, err);
				if (rc != PV_OK)
					goto fail;
				goto ok;
			}
			rc = create_file(st, err);
			if (rc != PV_OK)
				goto fail;
		} else if (flags & STORE_NEW) {
			rc = exists_already(path, err);
			goto fail;
		}
	}
	rc = open_file(st, err);
	if (rc != PV_OK)
		goto fail;
ok:
	log_debug(LOG_STORE, "state %s open%s", path,
	    st->rdonly ? " read-only" : "");
	*out = st;
	return PV_OK;
fail:
	store_close(st);
	return rc;
}

enum pv_code
store_open_more(const struct store *main, struct store **out,
    struct pv_err *err)
{
	struct store *st;
	enum pv_code rc;

	if (main == NULL || main->rdonly || main->lockfd == -1)
		return pv_errf(err, PV_EINTERNAL,
		    "state: another connection needs a writable, locked one");
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(main->path);
	st->lockfd = -1; /* the run lock is main's */
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	        SQLITE_OK) {
		rc = dberr(st, "open", err);
		goto fail;
	}
	/* main checked the file, made it WAL and migrated it. */
	rc = exec_sql(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
	    "pragmas", err);
	if (rc == PV_OK)
		rc = set_cache(st, err);
	if (rc != PV_OK)
		goto fail;
	log_debug(LOG_STORE, "state %s: another connection", st->path);
	*out = st;
	return PV_OK;
fail:
	store_close(st);
	return rc;
}

enum pv_code
store_publish(struct store *st, struct pv_err *err)
{
	size_t i;
	enum pv_code rc;

	if (st->tmp == NULL || st->db == NULL || in_tx(st))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: publish: not a new state, or inside a transaction",
		    st->path);
	/* sqlite3_close() refuses while statements are prepared. */
	for (i = 0; i < S_COUNT; i++) {
		(void)sqlite3_finalize(st->stmt[i]); /* see release() */
		st->stmt[i] = NULL;
	}
	rc = publish_tmp(st, st->tmp, err);
	free(st->tmp);
	st->tmp = NULL;
	if (rc != PV_OK)
		return rc;
	/* From here on it is a state like any other, checked as one. */
	return open_file(st, err);
}

bool
store_created(const struct store *st)
{
	return st->created;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->db != NULL) {
		/* Uncommitted work is dropped, as if the run had died. */
		tx_rollback(st);
		for (i = 0; i < S_COUNT; i++)
			(void)sqlite3_finalize(st->stmt[i]); /* see release() */
		if (sqlite3_close(st->db) != SQLITE_OK)
			log_warnx("state %s: close: %s", st->path,
			    sqlite3_errmsg(st->db));
	}
	/* A new state never published: nothing of it stays. */
	if (st->tmp != NULL) {
		(void)unlink_side(st->tmp, tmp_files);
		free(st->tmp);
	}
	/* The lock goes last: the next run must not find the db while the
	 * last checkpoint is still being written. */
	lock_release(st);
	free(st->path);
	free(st);
}

/* ---- transactions ---- */

enum pv_code
store_begin(struct store *st, struct pv_err *err)
{
	enum pv_code rc;

	rc = writable(st, "begin", err);
	if (rc != PV_OK)
		return rc;
	if (in_tx(st))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: store_begin inside a transaction", st->path);
	return tx_begin(st, err);
}

enum pv_code
store_commit(struct store *st, struct pv_err *err)
{
	if (!in_tx(st))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: store_commit outside a transaction", st->path);
	return tx_commit(st, err);
}

void
store_rollback(struct store *st)
{
	if (st == NULL || st->db == NULL)
		return;
	tx_rollback(st);
}

/* ---- messages ---- */

enum pv_code
store_msg_get(struct store *st, const char *account, const char *uidl,
    size_t uidl_len, struct store_msg *out, bool *found, struct pv_err *err)
{
	struct store_msg m;
	sqlite3_stmt *s = NULL;
	char *acct = NULL, *u = NULL, *mid = NULL, *dsrc = NULL;
	size_t ulen = 0, n;
	int src;
	enum pv_code rc;

	rc = check_uidl(st, account, uidl, uidl_len, err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_MSG_GET, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, account) != SQLITE_OK ||
	    bind_uidl(s, 2, uidl, uidl_len) != SQLITE_OK) {
		rc = dberr(st, "look up message", err);
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		*found = false;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = dberr(st, "look up message", err);
		goto out;
	}
	if (!col_copy(s, 0, &acct, &n) || !col_copy(s, 1, &u, &ulen) ||
	    !col_copy(s, 5, &mid, &n) || !col_copy(s, 9, &dsrc, &n)) {
		rc = dberr(st, "look up message", err);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.account = acct;
	m.uidl = u;
	m.uidl_len = ulen;
	col_hex(s, 2, m.sha256);
	m.size = (uint64_t)sqlite3_column_int64(s, 3);
	m.list_size = (uint64_t)sqlite3_column_int64(s, 4);
	m.message_id = mid;
	col_hex(s, 6, m.canon);
	m.date = sqlite3_column_int64(s, 7);
	m.date_off = sqlite3_column_int(s, 8);
	m.date_src = dsrc;
	m.first_seen = sqlite3_column_int64(s, 10);
	m.volume_id = sqlite3_column_int64(s, 11);
	m.state = sqlite3_column_int(s, 12) == 1 ? STORE_DONE : STORE_PENDING;
	m.deleted_at = sqlite3_column_int64(s, 13);
	acct = u = mid = dsrc = NULL; /* m owns them now */
	*out = m;
	*found = true;
out:
	release(s);
	free(acct);
	free(u);
	free(mid);
	free(dsrc);
	return rc;
}

void
store_msg_clear(struct store_msg *m)
{
	if (m == NULL)
		return;
	free_const(m->account);
	free_const(m->uidl);
	free_const(m->message_id);
	free_const(m->date_src);
	memset(m, 0, sizeof(*m));
}

enum pv_code
store_msg_add(struct store *st, const struct store_msg *m, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	enum pv_code rc;

	rc = writable(st, "add message", err);
	if (rc == PV_OK)
		rc = check_uidl(st, m->account, m->uidl, m->uidl_len, err);
	if (rc == PV_OK)
		rc = check_u64(st, m->size, "message size", err);
	if (rc == PV_OK)
		rc = check_u64(st, m->list_size, "message size", err);
	if (rc != PV_OK)
		return rc;
	if (!is_hex64(m->sha256) || m->date_src == NULL ||
	    (m->canon[0] != '\0' && strnlen(m->canon, 65) > 64))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: add message: bad digest or date source",
		    st->path);
	/* Volume 0: the message went to an IMAP target only; its upload
	 * is DONE in the same transaction, so the row is DONE at once. */
	rc = prep(st, m->volume_id == 0 ? S_MSG_ADD_NOVOL : S_MSG_ADD, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, m->account) != SQLITE_OK ||
	    bind_uidl(s, 2, m->uidl, m->uidl_len) != SQLITE_OK ||
	    bind_text(s, 3, m->sha256) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (int64_t)m->size) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, (int64_t)m->list_size) != SQLITE_OK ||
	    bind_text(s, 6, m->message_id) != SQLITE_OK ||
	    bind_text(s, 7, m->canon[0] != '\0' ? m->canon : NULL) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(s, 8, m->date) != SQLITE_OK ||
	    sqlite3_bind_int(s, 9, m->date_off) != SQLITE_OK ||
	    bind_text(s, 10, m->date_src) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 11, m->first_seen) != SQLITE_OK ||
	    (m->volume_id != 0 &&
	        sqlite3_bind_int64(s, 12, m->volume_id) != SQLITE_OK))
		return bind_failed(st, s, "add message", err);
	rc = run_stmt(st, s, "add message", &changes, err);
	if (rc == PV_OK && changes != 1)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: add message: volume %" PRId64
		    " does not exist or is not pending",
		    st->path, m->volume_id);
	return rc;
}

enum pv_code
store_msg_deleted(struct store *st, const char *account, const char *uidl,
    size_t uidl_len, int64_t when, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	enum pv_code rc;

	rc = writable(st, "mark deleted", err);
	if (rc == PV_OK)
		rc = check_uidl(st, account, uidl, uidl_len, err);
	if (rc != PV_OK)
		return rc;
	if (when <= 0)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: mark deleted: bad time %" PRId64, st->path,
		    when);
	rc = prep(st, S_MSG_DELETED, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, account) != SQLITE_OK ||
	    bind_uidl(s, 2, uidl, uidl_len) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, when) != SQLITE_OK)
		return bind_failed(st, s, "mark deleted", err);
	rc = run_stmt(st, s, "mark deleted", &changes, err);
	if (rc == PV_OK && changes != 1)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: mark deleted: account %s has no such message",
		    st->path, account);
	return rc;
}

/* ---- blobs ---- */

enum pv_code
store_blob_get(struct store *st, const char *sha256, bool *found, char **volume,
    char **member, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	char *v = NULL, *mb = NULL;
	size_t n;
	int src;
	enum pv_code rc;

	if (sha256 == NULL || !is_hex64(sha256))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: look up content: bad digest", st->path);
	rc = prep(st, S_BLOB_GET, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, sha256) != SQLITE_OK) {
		rc = dberr(st, "look up content", err);
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		*found = false;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = dberr(st, "look up content", err);
		goto out;
	}
	if ((volume != NULL && !col_copy(s, 0, &v, &n)) ||
	    (member != NULL && !col_copy(s, 1, &mb, &n))) {
		rc = dberr(st, "look up content", err);
		goto out;
	}
	if (volume != NULL)
		*volume = v;
	if (member != NULL)
		*member = mb;
	v = mb = NULL;
	*found = true;
out:
	release(s);
	free(v);
	free(mb);
	return rc;
}

enum pv_code
store_blob_add(struct store *st, const char *sha256, uint64_t size,
    int64_t volume_id, const char *member, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	enum pv_code rc;

	rc = writable(st, "add content", err);
	if (rc == PV_OK)
		rc = check_u64(st, size, "content size", err);
	if (rc != PV_OK)
		return rc;
	if (sha256 == NULL || !is_hex64(sha256) || member == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: add content: bad digest or member", st->path);
	rc = prep(st, S_BLOB_ADD, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, sha256) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (int64_t)size) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, volume_id) != SQLITE_OK ||
	    bind_text(s, 4, member) != SQLITE_OK)
		return bind_failed(st, s, "add content", err);
	rc = run_stmt(st, s, "add content", &changes, err);
	if (rc == PV_OK && changes != 1)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: add content: volume %" PRId64
		    " does not exist or is not pending",
		    st->path, volume_id);
	return rc;
}

/* ---- volumes ---- */

enum pv_code
store_volume_add(struct store *st, const char *name, int64_t created,
    int64_t *id, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = writable(st, "add volume", err);
	if (rc != PV_OK)
		return rc;
	if (name == NULL || name[0] == '\0')
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: add volume: no name", st->path);
	rc = prep(st, S_VOL_ADD, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, name) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, created) != SQLITE_OK)
		return bind_failed(st, s, "add volume", err);
	rc = run_stmt(st, s, "add volume", NULL, err);
	if (rc == PV_OK)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

/* *exists false for an unknown id; else *state. */
static enum pv_code
vol_state(struct store *st, int64_t id, bool *exists, enum store_state *state,
    struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_VOL_STATE, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = dberr(st, "volume state", err);
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		*exists = false;
	} else if (src == SQLITE_ROW) {
		*exists = true;
		*state =
		    sqlite3_column_int(s, 0) == 1 ? STORE_DONE : STORE_PENDING;
	} else {
		rc = dberr(st, "volume state", err);
	}
out:
	release(s);
	return rc;
}

/* Volume-level operations run in a transaction of their own. */
static enum pv_code
vol_tx_begin(struct store *st, const char *what, int64_t id,
    enum store_state *state, struct pv_err *err)
{
	bool exists = false;
	enum pv_code rc;

	rc = writable(st, what, err);
	if (rc != PV_OK)
		return rc;
	if (in_tx(st))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: %s %" PRId64
		    ": must be called outside a transaction",
		    st->path, what, id);
	rc = tx_begin(st, err);
	if (rc != PV_OK)
		return rc;
	rc = vol_state(st, id, &exists, state, err);
	if (rc == PV_OK && !exists)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: %s: no volume %" PRId64, st->path, what, id);
	if (rc != PV_OK)
		tx_rollback(st);
	return rc;
}

/* Every message of volume id must have its bytes in id itself or in a
 * volume that is DONE already: otherwise DONE would open the delete gate
 * for a message whose bytes may never become durable. */
static enum pv_code
vol_check_stored(struct store *st, int64_t id, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_VOL_UNSTORED, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = dberr(st, "volume done", err);
		goto out;
	}
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		const unsigned char *acct = sqlite3_column_text(s, 0);

		if (sqlite3_column_type(s, 1) == SQLITE_NULL)
			rc = pv_errf(err, PV_EINTERNAL,
			    "state %s: volume %" PRId64
			    " cannot be done: a message of account %s has content recorded in no volume",
			    st->path, id,
			    acct != NULL ? (const char *)acct : "?");
		else
			rc = pv_errf(err, PV_EINTERNAL,
			    "state %s: volume %" PRId64
			    " cannot be done: a message of account %s has its content in volume %" PRId64
			    ", which is still pending",
			    st->path, id,
			    acct != NULL ? (const char *)acct : "?",
			    (int64_t)sqlite3_column_int64(s, 1));
	} else if (src != SQLITE_DONE) {
		rc = dberr(st, "volume done", err);
	}
out:
	release(s);
	return rc;
}

enum pv_code
store_volume_done(struct store *st, int64_t id, struct pv_err *err)
{
	enum store_state state = STORE_PENDING;
	enum pv_code rc;

	rc = vol_tx_begin(st, "volume done", id, &state, err);
	if (rc != PV_OK)
		return rc;
	if (state == STORE_DONE) /* recovery may settle it twice */
		return tx_commit(st, err);
	rc = vol_check_stored(st, id, err);
	if (rc == PV_OK)
		rc = run_id(st, S_VOL_DONE_MSGS, id, "volume done", NULL, err);
	if (rc == PV_OK)
		rc = run_id(st, S_VOL_DONE, id, "volume done", NULL, err);
	if (rc == PV_OK)
		rc = tx_commit(st, err);
	else
		tx_rollback(st);
	if (rc == PV_OK)
		log_debug(LOG_STORE, "volume %" PRId64 " done", id);
	return rc;
}

enum pv_code
store_volume_drop(struct store *st, int64_t id, struct pv_err *err)
{
	enum store_state state = STORE_PENDING;
	sqlite3_stmt *s = NULL;
	int src, refs = 0;
	enum pv_code rc;

	rc = vol_tx_begin(st, "volume drop", id, &state, err);
	if (rc != PV_OK)
		return rc;
	if (state == STORE_DONE) {
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: volume %" PRId64
		    " is done; a durable volume is never dropped",
		    st->path, id);
		goto fail;
	}
	/* Cannot happen while volume_done checks what it settles; if it
	 * did, dropping would lose the only copy of a DONE message. */
	rc = prep(st, S_VOL_DURABLE_REFS, &s, err);
	if (rc != PV_OK)
		goto fail;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = dberr(st, "volume drop", err);
	} else {
		src = sqlite3_step(s);
		if (src == SQLITE_ROW)
			rc = pv_errf(err, PV_EINTERNAL,
			    "state %s: volume %" PRId64
			    " holds content of done volume %" PRId64
			    "; refusing to drop it",
			    st->path, id, (int64_t)sqlite3_column_int64(s, 0));
		else if (src != SQLITE_DONE)
			rc = dberr(st, "volume drop", err);
	}
	release(s);
	if (rc != PV_OK)
		goto fail;
	/* Pending messages of other volumes whose bytes were to be in this
	 * one: their content is gone with it, so they must be fetched
	 * again too. */
	rc = run_id(st, S_VOL_DROP_REFS, id, "volume drop", &refs, err);
	if (rc == PV_OK)
		rc = run_id(st, S_VOL_DROP_MSGS, id, "volume drop", NULL, err);
	if (rc == PV_OK)
		rc = run_id(st, S_VOL_DROP_BLOBS, id, "volume drop", NULL, err);
	if (rc == PV_OK)
		rc = run_id(st, S_VOL_DROP, id, "volume drop", NULL, err);
	if (rc != PV_OK)
		goto fail;
	rc = tx_commit(st, err);
	if (rc == PV_OK)
		log_debug(LOG_STORE,
		    "volume %" PRId64 " dropped (%d message(s) elsewhere)", id,
		    refs);
	return rc;
fail:
	tx_rollback(st);
	return rc;
}

enum pv_code
store_volumes_done_all(struct store *st, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	char *account = NULL;
	size_t n;
	int src;
	enum pv_code rc;

	if (st->tmp == NULL || in_tx(st))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: all volumes done: not a state being rebuilt, or inside a transaction",
		    st->path);
	rc = tx_begin(st, err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_ALL_UNSTORED, &s, err);
	if (rc != PV_OK)
		goto fail;
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		if (!col_copy(s, 0, &account, &n)) {
			rc = dberr(st, "all volumes done", err);
		} else {
			rc = pv_errf(err, PV_EINTERNAL,
			    "state %s: all volumes done: a message of account %s has its content in no volume",
			    st->path, account != NULL ? account : "?");
			free(account);
		}
		release(s);
		goto fail;
	}
	if (src != SQLITE_DONE) {
		rc = dberr(st, "all volumes done", err);
		release(s);
		goto fail;
	}
	release(s);
	rc = prep(st, S_ALL_DONE_MSGS, &s, err);
	if (rc == PV_OK)
		rc = run_stmt(st, s, "all volumes done", NULL, err);
	if (rc == PV_OK)
		rc = prep(st, S_ALL_DONE, &s, err);
	if (rc == PV_OK)
		rc = run_stmt(st, s, "all volumes done", NULL, err);
	if (rc != PV_OK)
		goto fail;
	return tx_commit(st, err);
fail:
	tx_rollback(st);
	return rc;
}

enum pv_code
store_volumes_pending(struct store *st, struct store_volume **vols, size_t *n,
    struct pv_err *err)
{
	struct store_volume *v = NULL;
	sqlite3_stmt *s = NULL;
	size_t nv = 0, cap = 0, len;
	int src;
	enum pv_code rc;

	rc = prep(st, S_VOL_PENDING, &s, err);
	if (rc != PV_OK)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		char *name = NULL;

		if (!col_copy(s, 1, &name, &len)) {
			rc = dberr(st, "pending volumes", err);
			goto fail;
		}
		if (nv == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[nv].id = sqlite3_column_int64(s, 0);
		v[nv].name = name != NULL ? name : xstrdup("");
		v[nv].state =
		    sqlite3_column_int(s, 2) == 1 ? STORE_DONE : STORE_PENDING;
		v[nv].created = sqlite3_column_int64(s, 3);
		nv++;
	}
	if (src != SQLITE_DONE) {
		rc = dberr(st, "pending volumes", err);
		goto fail;
	}
	release(s);
	*vols = v;
	*n = nv;
	return PV_OK;
fail:
	release(s);
	store_volumes_free(v, nv);
	return rc;
}

void
store_volumes_free(struct store_volume *vols, size_t n)
{
	size_t i;

	if (vols == NULL)
		return;
	for (i = 0; i < n; i++)
		free(vols[i].name);
	free(vols);
}

/* ---- runs and status ---- */

enum pv_code
store_run_begin(struct store *st, const char *command, int64_t started,
    int64_t *run_id, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = writable(st, "begin run", err);
	if (rc != PV_OK)
		return rc;
	if (command == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: begin run: no command", st->path);
	rc = prep(st, S_RUN_BEGIN, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, command) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, started) != SQLITE_OK)
		return bind_failed(st, s, "begin run", err);
	rc = run_stmt(st, s, "begin run", NULL, err);
	if (rc == PV_OK)
		*run_id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

enum pv_code
store_run_account(struct store *st, int64_t run_id,
    const struct store_run_acct *a, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	const uint64_t v[] = {a->seen, a->fetched, a->stored, a->dups,
	    a->deleted, a->failed, a->bytes};
	size_t i;
	bool bad = false;
	enum pv_code rc;

	rc = writable(st, "record account", err);
	if (rc != PV_OK)
		return rc;
	if (a->account == NULL || a->code == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: record account: no account or code", st->path);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		rc = check_u64(st, v[i], "run counter", err);
		if (rc != PV_OK)
			return rc;
	}
	rc = prep(st, S_RUN_ACCT, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, run_id) != SQLITE_OK ||
	    bind_text(s, 2, a->account) != SQLITE_OK ||
	    bind_text(s, 10, a->code) != SQLITE_OK ||
	    bind_text(s, 11, a->error) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 12, a->started) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 13, a->ended) != SQLITE_OK)
		bad = true;
	for (i = 0; i < sizeof(v) / sizeof(v[0]) && !bad; i++)
		bad = sqlite3_bind_int64(s, 3 + (int)i, (int64_t)v[i]) !=
		      SQLITE_OK;
	if (bad)
		return bind_failed(st, s, "record account", err);
	return run_stmt(st, s, "record account", NULL, err);
}

enum pv_code
store_run_end(struct store *st, int64_t run_id, int64_t ended,
    const char *outcome, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	enum pv_code rc;

	rc = writable(st, "end run", err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_RUN_END, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, ended) != SQLITE_OK ||
	    bind_text(s, 3, outcome) != SQLITE_OK)
		return bind_failed(st, s, "end run", err);
	rc = run_stmt(st, s, "end run", &changes, err);
	if (rc == PV_OK && changes != 1)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: end run: no run %" PRId64, st->path, run_id);
	return rc;
}

enum pv_code
store_status_each(struct store *st,
    enum pv_code (
        *cb)(void *arg, const struct store_status *s, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_status ss;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_STATUS, &s, err);
	if (rc != PV_OK)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&ss, 0, sizeof(ss));
		ss.account = (const char *)sqlite3_column_text(s, 0);
		if (ss.account == NULL) {
			rc = dberr(st, "status", err);
			goto out;
		}
		ss.messages = (uint64_t)sqlite3_column_int64(s, 1);
		ss.bytes = (uint64_t)sqlite3_column_int64(s, 2);
		ss.pending = (uint64_t)sqlite3_column_int64(s, 3);
		ss.deleted = (uint64_t)sqlite3_column_int64(s, 4);
		ss.newest = sqlite3_column_int64(s, 5);
		ss.last_ok = sqlite3_column_int64(s, 6);
		ss.last_fail = sqlite3_column_int64(s, 7);
		ss.last_error = (const char *)sqlite3_column_text(s, 8);
		ss.last_code = (const char *)sqlite3_column_text(s, 9);
		rc = cb(arg, &ss, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "status", err);
out:
	release(s);
	return rc;
}

enum pv_code
store_done_each(struct store *st,
    enum pv_code (
        *cb)(void *arg, const struct store_done *d, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_done d;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_DONE_ALL, &s, err);
	if (rc != PV_OK)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		if (sqlite3_column_int(s, 0) == 0) {
			d.volume = (const char *)sqlite3_column_text(s, 1);
			if (d.volume == NULL) {
				rc = dberr(st, "done rows", err);
				goto out;
			}
		} else {
			d.account = (const char *)sqlite3_column_text(s, 2);
			d.sha256 = (const char *)sqlite3_column_text(s, 3);
			if (d.account == NULL || d.sha256 == NULL) {
				rc = dberr(st, "done rows", err);
				goto out;
			}
		}
		rc = cb(arg, &d, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "done rows", err);
out:
	release(s);
	return rc;
}

/* ---- messages, all of them ---- */

enum pv_code
store_msg_each(struct store *st, const char *account,
    enum pv_code (
        *cb)(void *arg, const struct store_msg *m, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_msg m;
	sqlite3_stmt *s = NULL;
	const void *u;
	int src, ulen;
	enum pv_code rc;

	rc = prep(st, account == NULL ? S_MSG_EACH_ALL : S_MSG_EACH_ACCT, &s,
	    err);
	if (rc != PV_OK)
		return rc;
	if (account != NULL && bind_text(s, 1, account) != SQLITE_OK)
		return bind_failed(st, s, "list messages", err);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		/* The column is a blob: no text conversion in the way. */
		u = sqlite3_column_blob(s, 1);
		ulen = sqlite3_column_bytes(s, 1);
		m.account = (const char *)sqlite3_column_text(s, 0);
		m.date_src = (const char *)sqlite3_column_text(s, 9);
		if (m.account == NULL || m.date_src == NULL ||
		    (u == NULL && ulen > 0)) {
			rc = dberr(st, "list messages", err);
			goto out;
		}
		m.uidl = u != NULL ? (const char *)u : "";
		m.uidl_len = (size_t)(ulen > 0 ? ulen : 0);
		col_hex(s, 2, m.sha256);
		m.size = (uint64_t)sqlite3_column_int64(s, 3);
		m.list_size = (uint64_t)sqlite3_column_int64(s, 4);
		m.message_id = (const char *)sqlite3_column_text(s, 5);
		col_hex(s, 6, m.canon);
		m.date = sqlite3_column_int64(s, 7);
		m.date_off = sqlite3_column_int(s, 8);
		m.first_seen = sqlite3_column_int64(s, 10);
		m.volume_id = sqlite3_column_int64(s, 11); /* NULL: 0 */
		m.state =
		    sqlite3_column_int(s, 12) == 1 ? STORE_DONE : STORE_PENDING;
		m.deleted_at = sqlite3_column_int64(s, 13);
		rc = cb(arg, &m, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "list messages", err);
out:
	release(s);
	return rc;
}

enum pv_code
store_msg_known_each(struct store *st, const char *account,
    enum pv_code (
        *cb)(void *arg, const struct store_known *k, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_known k;
	sqlite3_stmt *s = NULL;
	const void *u;
	int src, ulen;
	enum pv_code rc;

	rc = prep(st, S_MSG_KNOWN, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, account) != SQLITE_OK)
		return bind_failed(st, s, "known messages", err);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&k, 0, sizeof(k));
		u = sqlite3_column_blob(s, 0);
		ulen = sqlite3_column_bytes(s, 0);
		if (u == NULL && ulen > 0) {
			rc = dberr(st, "known messages", err);
			goto out;
		}
		k.uidl = u != NULL ? (const char *)u : "";
		k.uidl_len = (size_t)(ulen > 0 ? ulen : 0);
		k.state =
		    sqlite3_column_int(s, 1) == 1 ? STORE_DONE : STORE_PENDING;
		k.first_seen = sqlite3_column_int64(s, 2);
		col_hex(s, 3, k.sha256);
		rc = cb(arg, &k, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "known messages", err);
out:
	release(s);
	return rc;
}

/* ---- IMAP targets ---- */

/* What an upload row may say: the strings handed out are these. */
static const char *const upl_date_srcs[] = {"received", "date", "fetched",
    "archive", NULL};
static const char *const upl_hows[] = {"appended", "found", NULL};

/* The static entry of 'list' equal to v, or NULL. */
static const char *
pick(const char *const *list, const char *v)
{
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], v) == 0)
			return list[i];
	return NULL;
}

static enum pv_code
check_target(struct store *st, int64_t target_id, const char *sha256,
    const char *what, struct pv_err *err)
{
	if (target_id <= 0 || sha256 == NULL || !is_hex64(sha256))
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: %s: bad target or digest", st->path, what);
	return PV_OK;
}

/* Run a cached statement without bindings (SAVEPOINT and friends). */
static enum pv_code
run_plain(struct store *st, enum stmt_id id, const char *what,
    struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = prep(st, id, &s, err);
	if (rc != PV_OK)
		return rc;
	return run_stmt(st, s, what, NULL, err);
}

/* The target row: *found, and if so *id and *uv. */
static enum pv_code
target_find(struct store *st, const char *key, const char *folder, bool *found,
    int64_t *id, uint32_t *uv, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_TGT_GET, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, key) != SQLITE_OK ||
	    bind_text(s, 2, folder) != SQLITE_OK)
		return bind_failed(st, s, "target", err);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*found = true;
		*id = sqlite3_column_int64(s, 0);
		*uv = (uint32_t)sqlite3_column_int64(s, 1);
	} else if (src == SQLITE_DONE) {
		*found = false;
	} else {
		rc = dberr(st, "target", err);
	}
	release(s);
	return rc;
}

/* The work of store_target_get, inside a transaction or savepoint. */
static enum pv_code
target_get_locked(struct store *st, const char *key, const char *folder,
    uint32_t uidvalidity, int64_t *id, bool *reset, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	uint32_t old = 0;
	bool found = false;
	int n = 0;
	enum pv_code rc;

	rc = target_find(st, key, folder, &found, id, &old, err);
	if (rc != PV_OK)
		return rc;
	if (!found) {
		rc = prep(st, S_TGT_ADD, &s, err);
		if (rc != PV_OK)
			return rc;
		if (bind_text(s, 1, key) != SQLITE_OK ||
		    bind_text(s, 2, folder) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, uidvalidity) != SQLITE_OK)
			return bind_failed(st, s, "add target", err);
		rc = run_stmt(st, s, "add target", NULL, err);
		if (rc == PV_OK)
			*id = sqlite3_last_insert_rowid(st->db);
		return rc;
	}
	/* 0 is "not known": it neither resets nor forgets a known one. */
	if (uidvalidity == 0 || uidvalidity == old)
		return PV_OK;
	if (old != 0) {
		/* The folder was recreated: its UIDs, and whatever we
		 * recorded as being in it, are gone. */
		rc = run_id(st, S_TGT_RESET, *id, "reset target", &n, err);
		if (rc != PV_OK)
			return rc;
		*reset = true;
		log_info("state %s: target %s folder %s has a new UIDVALIDITY "
		         "(%" PRIu32 ", was %" PRIu32 "): forgot %d upload(s)",
		    st->path, key, folder, uidvalidity, old, n);
	}
	rc = prep(st, S_TGT_SET_UV, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, *id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, uidvalidity) != SQLITE_OK)
		return bind_failed(st, s, "reset target", err);
	return run_stmt(st, s, "reset target", NULL, err);
}

enum pv_code
store_target_get(struct store *st, const char *key, const char *folder,
    uint32_t uidvalidity, int64_t *id, bool *reset, struct pv_err *err)
{
	struct pv_err e2;
	int64_t tid = 0;
	bool rs = false, own;
	enum pv_code rc;

	rc = writable(st, "target", err);
	if (rc != PV_OK)
		return rc;
	if (key == NULL || folder == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: target: no key or folder", st->path);
	/* Our own transaction outside one (BEGIN IMMEDIATE, as always);
	 * inside the caller's, a savepoint, so that a failure undoes this
	 * call and nothing of the caller's. */
	own = !in_tx(st);
	rc = own ? tx_begin(st, err)
	         : run_plain(st, S_SAVEPOINT, "target savepoint", err);
	if (rc != PV_OK)
		return rc;
	rc = target_get_locked(st, key, folder, uidvalidity, &tid, &rs, err);
	if (own) {
		if (rc == PV_OK)
			rc = tx_commit(st, err);
		else
			tx_rollback(st);
	} else if (rc == PV_OK) {
		rc = run_plain(st, S_SP_RELEASE, "target savepoint", err);
	} else if (in_tx(st)) {
		/* SQLite may have rolled back everything already (I/O
		 * error); then there is no savepoint left to go back to. */
		if (run_plain(st, S_SP_ROLLBACK, "target savepoint", &e2) !=
		        PV_OK ||
		    run_plain(st, S_SP_RELEASE, "target savepoint", &e2) !=
		        PV_OK)
			log_warnx("%s", e2.msg);
	}
	if (rc == PV_OK) {
		*id = tid;
		*reset = rs;
	}
	return rc;
}

/* Column values of an upload row (S_UPL_GET, S_UPL_EACH) into *u, with
 * date_src and how as the static strings. */
static enum pv_code
upload_row(struct store *st, sqlite3_stmt *s, struct store_upload *u,
    struct pv_err *err)
{
	const char *dsrc, *how;

	memset(u, 0, sizeof(*u));
	col_hex(s, 0, u->sha256);
	u->state =
	    sqlite3_column_int(s, 1) == 1 ? STORE_UPL_DONE : STORE_UPL_INTENT;
	u->uidvalidity = (uint32_t)sqlite3_column_int64(s, 2);
	u->uid = (uint32_t)sqlite3_column_int64(s, 3);
	u->uidnext = (uint32_t)sqlite3_column_int64(s, 4);
	u->internaldate = sqlite3_column_int64(s, 5);
	u->date_off = sqlite3_column_int(s, 6);
	dsrc = (const char *)sqlite3_column_text(s, 7);
	how = (const char *)sqlite3_column_text(s, 8);
	u->date_src = pick(upl_date_srcs, dsrc);
	u->how = pick(upl_hows, how);
	u->when = sqlite3_column_int64(s, 9);
	if (u->date_src == NULL ||
	    (u->state == STORE_UPL_DONE) != (u->how != NULL))
		return pv_errf(err, PV_EIO,
		    "state %s: upload row of %s has an unknown date source or kind (%s, %s); refusing to use it",
		    st->path, u->sha256, dsrc != NULL ? dsrc : "NULL",
		    how != NULL ? how : "NULL");
	return PV_OK;
}

enum pv_code
store_upload_get(struct store *st, int64_t target_id, const char *sha256,
    bool *found, struct store_upload *out, struct pv_err *err)
{
	struct store_upload u;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = check_target(st, target_id, sha256, "look up upload", err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_UPL_GET, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, target_id) != SQLITE_OK ||
	    bind_text(s, 2, sha256) != SQLITE_OK)
		return bind_failed(st, s, "look up upload", err);
	src = sqlite3_step(s);
	if (src == SQLITE_DONE) {
		*found = false;
	} else if (src == SQLITE_ROW) {
		rc = upload_row(st, s, &u, err);
		if (rc == PV_OK) {
			*out = u;
			*found = true;
		}
	} else {
		rc = dberr(st, "look up upload", err);
	}
	release(s);
	return rc;
}

/* Bind ?1..?8 of S_UPL_INTENT/S_UPL_DONE; false if one failed. */
static bool
bind_upload(sqlite3_stmt *s, int64_t target_id, const struct store_upload *u)
{
	return sqlite3_bind_int64(s, 1, target_id) == SQLITE_OK &&
	       bind_text(s, 2, u->sha256) == SQLITE_OK &&
	       sqlite3_bind_int64(s, 3, u->uidvalidity) == SQLITE_OK &&
	       sqlite3_bind_int64(s, 4, u->uid) == SQLITE_OK &&
	       sqlite3_bind_int64(s, 5, u->uidnext) == SQLITE_OK &&
	       sqlite3_bind_int64(s, 6, u->internaldate) == SQLITE_OK &&
	       sqlite3_bind_int(s, 7, u->date_off) == SQLITE_OK &&
	       bind_text(s, 8, u->date_src) == SQLITE_OK;
}

static enum pv_code
check_upload(struct store *st, int64_t target_id, const struct store_upload *u,
    const char *what, struct pv_err *err)
{
	enum pv_code rc;

	rc = writable(st, what, err);
	if (rc == PV_OK)
		rc = check_target(st, target_id, u->sha256, what, err);
	if (rc != PV_OK)
		return rc;
	if (pick(upl_date_srcs, u->date_src) == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: %s: bad date source", st->path, what);
	return PV_OK;
}

enum pv_code
store_upload_intent(struct store *st, int64_t target_id,
    const struct store_upload *u, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	int changes = 0;
	enum pv_code rc;

	rc = check_upload(st, target_id, u, "upload intent", err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_UPL_INTENT, &s, err);
	if (rc != PV_OK)
		return rc;
	if (!bind_upload(s, target_id, u) ||
	    sqlite3_bind_int64(s, 9, u->when) != SQLITE_OK)
		return bind_failed(st, s, "upload intent", err);
	rc = run_stmt(st, s, "upload intent", &changes, err);
	if (rc == PV_OK && changes != 1)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: upload intent: %s is done in target %" PRId64
		    " already; a done upload never goes back",
		    st->path, u->sha256, target_id);
	return rc;
}

enum pv_code
store_upload_done(struct store *st, int64_t target_id,
    const struct store_upload *u, struct pv_err *err)
{
	sqlite3_stmt *s = NULL;
	enum pv_code rc;

	rc = check_upload(st, target_id, u, "upload done", err);
	if (rc != PV_OK)
		return rc;
	if (pick(upl_hows, u->how) == NULL)
		return pv_errf(err, PV_EINTERNAL,
		    "state %s: upload done: 'how' must be appended or found",
		    st->path);
	rc = prep(st, S_UPL_DONE, &s, err);
	if (rc != PV_OK)
		return rc;
	if (!bind_upload(s, target_id, u) ||
	    bind_text(s, 9, u->how) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 10, u->when) != SQLITE_OK)
		return bind_failed(st, s, "upload done", err);
	return run_stmt(st, s, "upload done", NULL, err);
}

enum pv_code
store_upload_drop(struct store *st, int64_t target_id, const char *sha256,
    struct pv_err *err)
{
	struct store_upload u;
	sqlite3_stmt *s = NULL;
	int changes = 0;
	bool found = false;
	enum pv_code rc;

	rc = writable(st, "drop upload", err);
	if (rc == PV_OK)
		rc = check_target(st, target_id, sha256, "drop upload", err);
	if (rc != PV_OK)
		return rc;
	rc = prep(st, S_UPL_DROP, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, target_id) != SQLITE_OK ||
	    bind_text(s, 2, sha256) != SQLITE_OK)
		return bind_failed(st, s, "drop upload", err);
	rc = run_stmt(st, s, "drop upload", &changes, err);
	if (rc != PV_OK || changes == 1)
		return rc;
	/* Nothing deleted: no row (fine) or a DONE one (never removed). */
	rc = store_upload_get(st, target_id, sha256, &found, &u, err);
	if (rc == PV_OK && found)
		rc = pv_errf(err, PV_EINTERNAL,
		    "state %s: drop upload: %s is done in target %" PRId64
		    "; a done upload is never removed",
		    st->path, sha256, target_id);
	return rc;
}

enum pv_code
store_upload_each(struct store *st, int64_t target_id,
    enum store_upl_state state,
    enum pv_code (
        *cb)(void *arg, const struct store_upload *u, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_upload u;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_UPL_EACH, &s, err);
	if (rc != PV_OK)
		return rc;
	if (sqlite3_bind_int64(s, 1, target_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, state == STORE_UPL_DONE ? 1 : 0) !=
	        SQLITE_OK)
		return bind_failed(st, s, "list uploads", err);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		rc = upload_row(st, s, &u, err);
		if (rc == PV_OK)
			rc = cb(arg, &u, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "list uploads", err);
out:
	release(s);
	return rc;
}

enum pv_code
store_target_status_each(struct store *st,
    enum pv_code (*cb)(void *arg, const struct store_target_status *t,
        struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_target_status t;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	rc = prep(st, S_TGT_STATUS, &s, err);
	if (rc != PV_OK)
		return rc;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.key = (const char *)sqlite3_column_text(s, 0);
		t.folder = (const char *)sqlite3_column_text(s, 1);
		t.appended = (uint64_t)sqlite3_column_int64(s, 2);
		t.found = (uint64_t)sqlite3_column_int64(s, 3);
		t.intents = (uint64_t)sqlite3_column_int64(s, 4);
		t.last = sqlite3_column_int64(s, 5);
		if (t.key == NULL || t.folder == NULL) {
			rc = dberr(st, "target status", err);
			goto out;
		}
		rc = cb(arg, &t, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "target status", err);
out:
	release(s);
	return rc;
}

enum pv_code
store_target_each(struct store *st, const char *key,
    enum pv_code (
        *cb)(void *arg, const struct store_target *t, struct pv_err *err),
    void *arg, struct pv_err *err)
{
	struct store_target t;
	sqlite3_stmt *s = NULL;
	int src;
	enum pv_code rc;

	if (key == NULL)
		return pv_errf(err, PV_EINTERNAL, "state %s: targets: no key",
		    st->path);
	rc = prep(st, S_TGT_EACH, &s, err);
	if (rc != PV_OK)
		return rc;
	if (bind_text(s, 1, key) != SQLITE_OK)
		return bind_failed(st, s, "list targets", err);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.id = sqlite3_column_int64(s, 0);
		t.key = (const char *)sqlite3_column_text(s, 1);
		t.folder = (const char *)sqlite3_column_text(s, 2);
		t.uidvalidity = (uint32_t)sqlite3_column_int64(s, 3);
		if (t.key == NULL || t.folder == NULL) {
			rc = dberr(st, "list targets", err);
			goto out;
		}
		rc = cb(arg, &t, err);
		if (rc != PV_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = dberr(st, "list targets", err);
out:
	release(s);
	return rc;
}
