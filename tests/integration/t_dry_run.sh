# --dry-run changes nothing anywhere: no volume, no state db, and the
# server keeps every message even with --delete.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
seed "$u" $(corpus_files | head -n 10)
maildir_hashes "$u" >"$TEST_TMP/before"
mkdir -p "$ARCH"

backup --dry-run --delete --from "$(url_pop3s "$u")"
expect_rc 0 "backup --dry-run --delete"
[ -z "$(ls -A "$ARCH")" ] || {
	ls -la "$ARCH"
	fail "--dry-run wrote into the archive directory"
}
[ ! -e "$STATE" ] || fail "--dry-run created the state db"
[ -z "$(ls "$TEST_TMP" | grep -F 'state.db')" ] || fail "--dry-run left state db files"
maildir_hashes "$u" >"$TEST_TMP/after"
assert_same_set "$TEST_TMP/before" "$TEST_TMP/after" "server after --dry-run"

# -n is the same option.
run_pv backup -n --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
	--delete --from "$(url_pop3s "$u")"
expect_rc 0 "backup -n --delete"
[ -z "$(ls -A "$ARCH")" ] || fail "-n wrote into the archive directory"
[ ! -e "$STATE" ] || fail "-n created the state db"
assert_eq 10 "$(maildir_count "$u")" "messages on the server after -n"
exit 0
