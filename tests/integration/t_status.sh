# status shows each account the state db knows, with its message count.
. "$IT_DIR/lib.sh"

pw=pw-status-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
mapfile -t files < <(corpus_files)
seed "$a" "${files[@]:0:12}"
seed "$b" "${files[@]:12:7}"
ua=$(url_pop3s "$a")
ub=$(url_pop3s "$b")
mkdir -p "$ARCH"
POPVAULT_PASSWORD=$pw backup --from "$ua" --from "$ub"
expect_rc 0 "backup"

run_pv status --state "$STATE"
expect_rc 0 "status"
for pair in "$(account_of "$ua") 12" "$(account_of "$ub") 7"; do
	acct=${pair% *}
	n=${pair#* }
	line=$(grep -F -- "$acct" "$PV_OUT" | head -n 1)
	[ -n "$line" ] || fail "status does not list $acct"
	echo "$line" | tr -s ' \t|,' '\n' | grep -qx "$n" ||
		fail "status line for $acct does not show $n: '$line'"
done

run_pv status --state "$STATE" --json
expect_rc 0 "status --json"
json_check "$PV_OUT" "isinstance(j, dict) and isinstance(j.get('accounts'), list)" \
	"status --json has an accounts list"
for pair in "$(account_of "$ua") 12" "$(account_of "$ub") 7"; do
	acct=${pair% *}
	n=${pair#* }
	json_check "$PV_OUT" "any(a.get('account') == '$acct' and $n in a.values() for a in j['accounts'])" \
		"status --json shows $acct with $n messages"
done
exit 0
