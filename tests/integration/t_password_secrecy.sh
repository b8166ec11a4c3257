# The password is never in any process's argv and never in popvault's
# output, even at -v -d all, for each password source and for a wrong
# password; never in the state db or a volume.  The same in the syslog
# log format (--log-format syslog, or stderr being the journal), where
# every stderr line carries a priority.
. "$IT_DIR/lib.sh"

u=$(new_account a)
pw=$(password_of "$u")
seed "$u" $(corpus_files)
url=$(url_pop3s "$u")
printf '%s\n' "$pw" >"$TEST_TMP/pwfile"
chmod 0600 "$TEST_TMP/pwfile"
mkdir -p "$ARCH"

# watch_argv PID: until PID exits (bounded), scan every process's argv.
# Python does the scan: the password is in its environment, not its argv.
watch_argv() {
	PW=$pw "$PYTHON" - "$1" <<'EOP'
import os, sys, time
pid, pw = sys.argv[1], os.environ["PW"].encode()
for _ in range(1200):
    try:
        with open("/proc/%s/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                sys.exit(0)
    except OSError:
        sys.exit(0)
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if pw in argv:
            print("argv of process %s: %r" % (p, argv.replace(b"\0", b" ")))
            sys.exit(1)
    time.sleep(0.05)
EOP
}

n=0
for src in env file command; do
	n=$((n + 1))
	args=(-v -d all backup --archive "$ARCH" --state "$STATE.$src"
		--cafile "$CA_FILE" --from "$url")
	case $src in
	env) ;;
	file) args+=(--password-file "$TEST_TMP/pwfile") ;;
	command) args+=(--password-command "sleep 0.5; cat $TEST_TMP/pwfile") ;;
	esac
	log "run $src: popvault ${args[*]}"
	out=$TEST_TMP/secret$n.out
	err=$TEST_TMP/secret$n.err
	if [ "$src" = env ]; then
		POPVAULT_PASSWORD=$pw "$POPVAULT" "${args[@]}" </dev/null >"$out" 2>"$err" &
	else
		env -u POPVAULT_PASSWORD "$POPVAULT" "${args[@]}" </dev/null >"$out" 2>"$err" &
	fi
	pid=$!
	watch_argv "$pid" || {
		kill "$pid" 2>/dev/null
		fail "password visible in a process's argv ($src)"
	}
	wait "$pid"
	rc=$?
	log "run $src: exit $rc, $(wc -l <"$err") lines on stderr"
	[ "$rc" = 0 ] || {
		show "$err" 40
		fail "backup with the password from $src: exit $rc"
	}
	[ -s "$err" ] || fail "-v -d all printed nothing on stderr ($src)"
	assert_no_secret "$pw" "$u" "$out" "$err"
	# Nor is it stored: not in the state db, not in a volume.
	vols=$(archive_volumes "$ARCH")
	[ -n "$vols" ] || fail "no volume written ($src)"
	for v in $vols; do
		bsdtar -xOf "$v" >"$TEST_TMP/volume.bytes" || fail "cannot read $v"
		assert_no_secret "$pw" "$u" "$v" "$TEST_TMP/volume.bytes"
	done
	for f in "$STATE.$src" "$STATE.$src"-*; do
		assert_no_secret "$pw" "$u" "$f"
	done
	rm -rf "$ARCH"
	mkdir -p "$ARCH"
done

# A wrong password, at -v -d all: refused (77), and the password tried is
# not echoed either.
bad=$pw-not-this-one
POPVAULT_PASSWORD=$bad "$POPVAULT" -v -d all backup --archive "$ARCH" \
	--state "$STATE.bad" --cafile "$CA_FILE" --from "$url" \
	</dev/null >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
rc=$?
[ "$rc" = 77 ] || {
	show "$TEST_TMP/bad.err" 40
	fail "a wrong password: expected exit 77, got $rc"
}
assert_grep "$TEST_TMP/bad.err" "$u@" "the failure names the account"
assert_no_secret "$bad" "$u" "$TEST_TMP/bad.out" "$TEST_TMP/bad.err" "$STATE.bad"

# migrate at -v -d all: neither the source's nor the target's password
# (its LOGIN/AUTHENTICATE over imap:// after STARTTLS) in any output.
m=$(new_account m)
mpw=$(password_of "$m")
mapfile -t small < <(corpus_small | head -n 5)
seed "$m" "${small[@]}"
t=$(new_account t)
tpw=$(password_of "$t")
POPVAULT_PASSWORD=$mpw POPVAULT_TARGET_PASSWORD=$tpw "$POPVAULT" -v -d all \
	migrate --state "$STATE.migrate" --cafile "$CA_FILE" --from "$(url_pop3s "$m")" \
	--to "$(url_imap "$t" Moved)" </dev/null >"$TEST_TMP/mig.out" 2>"$TEST_TMP/mig.err"
rc=$?
[ "$rc" = 0 ] || {
	show "$TEST_TMP/mig.err" 40
	fail "migrate at -v -d all: exit $rc"
}
grep -q 'APPEND' "$TEST_TMP/mig.err" || fail "-d all did not trace the IMAP side"
assert_no_secret "$mpw" "$m" "$TEST_TMP/mig.out" "$TEST_TMP/mig.err" "$STATE.migrate"
assert_no_secret "$tpw" "$t" "$TEST_TMP/mig.out" "$TEST_TMP/mig.err" "$STATE.migrate"
# The syslog format at -v -d all: every line "<N>...", no "popvault: "
# prefix and no progress line, and still no password (source and target).
# assert_syslog FILE WHAT: every line of FILE starts with a priority.
assert_syslog() {
	[ -s "$1" ] || fail "$2: nothing on stderr"
	if grep -avqE '^<[0-7]>' "$1"; then
		grep -avnE '^<[0-7]>' "$1" | head -n 5 | sed 's/^/    | /'
		fail "$2: stderr lines without a syslog priority"
	fi
	assert_grep "$1" '^<7>' "$2: the debug trace, at <7>"
	assert_grep "$1" '^<6>account ' "$2: the account's line, at <6>"
}
POPVAULT_PASSWORD=$pw "$POPVAULT" -v -d all --log-format=syslog backup \
	--archive "$ARCH" --state "$STATE.syslog" --cafile "$CA_FILE" \
	--from "$url" </dev/null >"$TEST_TMP/sys.out" 2>"$TEST_TMP/sys.err"
rc=$?
[ "$rc" = 0 ] || {
	show "$TEST_TMP/sys.err" 40
	fail "backup --log-format=syslog at -v -d all: exit $rc"
}
assert_syslog "$TEST_TMP/sys.err" "backup --log-format=syslog"
assert_no_secret "$pw" "$u" "$TEST_TMP/sys.out" "$TEST_TMP/sys.err"

# A wrong password in that format: the failure at <3>, nothing echoed.
POPVAULT_PASSWORD=$bad "$POPVAULT" -v -d all backup --log-format syslog \
	--archive "$ARCH" --state "$STATE.sysbad" --cafile "$CA_FILE" \
	--from "$url" </dev/null >"$TEST_TMP/sysbad.out" 2>"$TEST_TMP/sysbad.err"
rc=$?
[ "$rc" = 77 ] || fail "a wrong password (syslog format): expected exit 77, got $rc"
assert_grep "$TEST_TMP/sysbad.err" "^<3>account $u@" "the failure at <3>, naming the account"
assert_no_secret "$bad" "$u" "$TEST_TMP/sysbad.out" "$TEST_TMP/sysbad.err"

# Automatic when stderr is the journal: JOURNAL_STREAM names its device
# and inode (systemd.exec(5)).  migrate, both passwords.
: >"$TEST_TMP/jmig.err"
js=$(stat -c '%d:%i' "$TEST_TMP/jmig.err")
JOURNAL_STREAM=$js POPVAULT_PASSWORD=$mpw POPVAULT_TARGET_PASSWORD=$tpw \
	"$POPVAULT" -v -d all migrate --state "$STATE.jmigrate" \
	--cafile "$CA_FILE" --from "$(url_pop3s "$m")" \
	--to "$(url_imap "$t" Journal)" </dev/null >"$TEST_TMP/jmig.out" 2>>"$TEST_TMP/jmig.err"
rc=$?
[ "$rc" = 0 ] || {
	show "$TEST_TMP/jmig.err" 40
	fail "migrate with stderr the journal: exit $rc"
}
assert_syslog "$TEST_TMP/jmig.err" "migrate, JOURNAL_STREAM"
grep -q 'APPEND' "$TEST_TMP/jmig.err" || fail "-d all did not trace the IMAP side (journal)"
assert_no_secret "$mpw" "$m" "$TEST_TMP/jmig.out" "$TEST_TMP/jmig.err"
assert_no_secret "$tpw" "$t" "$TEST_TMP/jmig.out" "$TEST_TMP/jmig.err"

# JOURNAL_STREAM inherited, but stderr is elsewhere: the text format.
JOURNAL_STREAM=$js POPVAULT_PASSWORD=$pw "$POPVAULT" backup --archive "$ARCH" \
	--state "$STATE.syslog" --cafile "$CA_FILE" --from "$url" \
	</dev/null >/dev/null 2>"$TEST_TMP/notj.err"
assert_grep "$TEST_TMP/notj.err" "^popvault: account " "text format when stderr is not the journal"
exit 0
