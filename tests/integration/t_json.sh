# backup --json: one JSON document on stdout with the documented fields
# (docs/REPORTS.md; t_json_schema.sh validates it against the schema).
. "$IT_DIR/lib.sh"

pw=pw-json-$RANDOM$RANDOM
good=$(new_account good "$pw")
bad=$(new_account bad "pw-other-$RANDOM$RANDOM")
mapfile -t files < <(corpus_files)
seed "$good" "${files[@]:0:8}"
seed "$bad" "${files[@]:8:2}"
bytes=$(cat "${files[@]:0:8}" | wc -c)
ugood=$(url_pop3s "$good")
ubad=$(url_pop3s "$bad")
mkdir -p "$ARCH"
fields="['account', 'status', 'seen', 'fetched', 'stored', 'duplicates', 'uploaded', 'deleted', 'failed', 'bytes', 'duration_ms', 'error']"

POPVAULT_PASSWORD=$pw backup --json --from "$ugood"
expect_rc 0 "backup --json"
json_check "$PV_OUT" "j['schema_version'] == 1 and j['command'] == 'backup' and j['ok'] is True and j['exit'] == 0" \
	"top level of a good run"
json_check "$PV_OUT" "isinstance(j['version'], str) and j['started'].endswith('Z') and 'T' in j['started']" \
	"version and start time (RFC 3339)"
json_check "$PV_OUT" "len(j['accounts']) == 1 and all(k in j['accounts'][0] for k in $fields)" \
	"account fields"
json_check "$PV_OUT" "(lambda a: a['account'] == '$(account_of "$ugood")' and a['status'] == 'ok' and a['seen'] == 8 and a['fetched'] == 8 and a['stored'] == 8 and a['failed'] == 0 and a['duplicates'] == 0 and a['uploaded'] == 0 and a['deleted'] == 0 and a['error'] is None)(j['accounts'][0])" \
	"account values of a good run"
json_check "$PV_OUT" "$bytes <= j['accounts'][0]['bytes'] <= $bytes * 1.05 + 4096" \
	"bytes (messages hold $bytes)"
json_check "$PV_OUT" "isinstance(j['accounts'][0]['duration_ms'], int) and j['accounts'][0]['duration_ms'] >= 0" \
	"duration_ms"

POPVAULT_PASSWORD=$pw backup --json --from "$ubad" --from "$ugood"
expect_rc 77 "backup --json with a wrong password"
json_check "$PV_OUT" "j['ok'] is False and j['exit'] == 77 and len(j['accounts']) == 2" \
	"top level of a failed run"
json_check "$PV_OUT" "[a for a in j['accounts'] if a['account'] == '$(account_of "$ubad")'][0]['status'] != 'ok'" \
	"status of the failed account"
json_check "$PV_OUT" "isinstance([a for a in j['accounts'] if a['account'] == '$(account_of "$ubad")'][0]['error'], str)" \
	"error text of the failed account"
json_check "$PV_OUT" "(lambda a: a['status'] == 'ok' and a['fetched'] == 0 and a['seen'] == 8)([a for a in j['accounts'] if a['account'] == '$(account_of "$ugood")'][0])" \
	"the good account in the failed run"
exit 0
