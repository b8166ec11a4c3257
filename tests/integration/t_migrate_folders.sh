# migrate --per-account under a folder whose name has spaces and non-ASCII
# letters: the names arrive decoded as given (modified UTF-7 on the wire),
# each account's messages go into its own subfolder, nothing into the parent.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-mfolders-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
a_files=("${all[@]:0:4}")
b_files=("${all[@]:4:5}")
seed "$a" "${a_files[@]}"
seed "$b" "${b_files[@]}"
hashes_of "${a_files[@]}" >"$TEST_TMP/expected.a"
hashes_of "${b_files[@]}" >"$TEST_TMP/expected.b"
export POPVAULT_PASSWORD=$pw
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD

# Dovecot's Maildir++ delimiter is '.', and '/' is not allowed in a name:
# the two levels are joined with the server's delimiter.
d=$(imap_delimiter "$t")
[ -n "$d" ] || fail "no hierarchy delimiter"
parent="Archiv Müller${d}Ünïcode 2024 & Co"
migrate --per-account --from "$(url_pop3s "$a")" --from "$(url_pop3s "$b")" \
	--to "$(url_imaps "$t" "$parent")"
expect_rc 0 "migrate --per-account"

imapdump list "$t" >"$TEST_TMP/list" || fail "imapdump list failed"
log "folders:"
show "$TEST_TMP/list"
grep -qxF "$parent" "$TEST_TMP/list" || fail "no folder '$parent'"
for x in a b; do
	user=${!x}
	# The account name is "user@host:port"; how popvault writes characters
	# that are the delimiter is its business: find the one subfolder below
	# the parent that names the user.
	grep -F "$parent$d" "$TEST_TMP/list" | grep -F "$user" >"$TEST_TMP/sub.$x"
	[ "$(wc -l <"$TEST_TMP/sub.$x")" -ge 1 ] || fail "no subfolder for $user below '$parent'"
	# with a '.' delimiter, "127.0.0.1" may nest: the deepest one holds mail
	sub=$(awk '{ print length($0) "\t" $0 }' "$TEST_TMP/sub.$x" | sort -n | tail -n 1 | cut -f2-)
	log "subfolder of $user: $sub"
	imap_dump "$t" "$sub" "$TEST_TMP/dump.$x"
	assert_folder_exactly "$TEST_TMP/expected.$x" "$TEST_TMP/dump.$x" "subfolder of $user"
done
[ "$(head -n 1 "$TEST_TMP/sub.a")" != "$(head -n 1 "$TEST_TMP/sub.b")" ] ||
	fail "both accounts went into the same folder"
c=$(imapdump count "$t" --folder "$parent")
assert_eq 0 "${c:-0}" "messages in the parent folder itself"
c=$(imapdump count "$t" --folder INBOX)
assert_eq 0 "${c:-0}" "messages in INBOX"
exit 0
