# The password is never in any process's argv and never in popvault's
# output, even at -v -d all; for each password source.
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
	rm -rf "$ARCH"
	mkdir -p "$ARCH"
done

# Nor is it stored: not in the state db, not in a volume.
for f in "$STATE".*; do
	assert_no_secret "$pw" "$u" "$f"
done
exit 0
