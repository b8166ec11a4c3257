# The fault proxy in front of Dovecot's POP3S port, terminating TLS so it
# can count commands, breaks a --delete session at one point per round:
# the connection dropped at accept, closed (FIN or RST) instead of
# forwarding a command, cut N bytes into an answer, stalled mid-RETR, a
# byte count into the session, an answer replaced by -ERR, DELE and QUIT
# answered by silence after the server acted on them.  After every round:
# the exit status the fault calls for, one line naming the account, no
# QUIT on a broken connection, nothing lost (each message still on the
# server or archived byte-exact), no volume left incomplete, the state
# sane.  Then a run without the fault converges: every message archived
# once, the mailbox empty.
. "$IT_DIR/lib.sh"

export POPVAULT_PASSWORD
gen_corpus "$TEST_TMP/corpus" --count 30 --seed 11 --size-mix large
mapfile -t files < <(corpus_files "$TEST_TMP/corpus")
hashes_of "${files[@]}" >"$TEST_TMP/expected"

# round RC FAULT...: a fresh account, archive and state; one --delete run
# through the proxy with FAULT, which must exit RC and keep the invariants;
# then one more run, which must converge.
round=0
round() {
	local rc=$1 broke u
	shift
	round=$((round + 1))
	u=$(new_account "r$round")
	POPVAULT_PASSWORD=$(password_of "$u")
	seed "$u" "${files[@]}"
	ARCH=$TEST_TMP/archive$round
	STATE=$TEST_TMP/state$round.db
	mkdir -p "$ARCH"
	# The fault strikes the proxy's first connection only: the second,
	# the run without the fault, goes through the same proxy unharmed.
	proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}" "$@"
	backup --delete --volume-size 1M --timeout 2s \
		--from "pop3s://$u@$HOST:$PX_PORT"
	expect_rc "$rc" "round $round ($*)"
	[ "$rc" = 0 ] ||
		assert_grep "$PV_ERR" "$u@$HOST:$PX_PORT" "round $round: stderr names the account"
	# Once the proxy broke the connection, popvault must not say QUIT on it.
	broke=$(grep -nE '^1 !(CLOSE|CUT|STALL|FLIP)' "$PX_LOG" | head -n 1 | cut -d: -f1)
	if [ -n "$broke" ]; then
		! tail -n +"$broke" "$PX_LOG" | grep -q '^1 C QUIT' ||
			fail "round $round ($*): QUIT after the connection broke"
	fi
	archive_check "$ARCH"
	{
		maildir_hashes "$u"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "round $round ($*)"
	assert_state_sane "$STATE"

	backup --delete --volume-size 1M --from "pop3s://$u@$HOST:$PX_PORT"
	proxy_stop
	grep -q '^2 !OPEN' "$PX_LOG" || fail "round $round: the re-run did not go through the proxy"
	expect_rc 0 "round $round: the run without the fault"
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
		"round $round: the archive after the run without the fault"
	assert_eq 0 "$(maildir_count "$u")" "round $round: messages left on the server"
}

round 75 --drop-conn 1
round 75 --drop-conn 1 --rst
round 75 --at CAPA 1 close
round 75 --at AUTH 1 close --rst
round 75 --at CAPA 2 cut:10
round 75 --at UIDL 1 cut:40
round 75 --at LIST 1 close --rst
round 75 --at RETR 1 cut:10
round 75 --at RETR 8 cut:300
round 75 --at RETR 15 cut:1 --rst
round 75 --at RETR 20 stall
round 75 --at RETR 30 close
round 75 --at DELE 1 close
round 75 --at DELE 7 silent --rst
round 75 --at DELE 30 cut:2
round 75 --at QUIT 1 close
round 75 --at QUIT 1 silent
round 75 --cut-after 60
round 75 --cut-after 5000
round 75 --cut-after 90000 --rst
round 65 --at RETR 5 'err:[SYS/TEMP] try again later'
round 65 --at DELE 3 'err:[SYS/TEMP] cannot delete now'

exit 0
