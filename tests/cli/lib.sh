# Shared by the CLI test scripts (sourced, not run): a scratch directory $W removed on exit, pass/fail
# counting and the helpers below. A script ends with `finish`, which prints the tally and fails if any
# check failed.
: "${AIMARK_BIN:?set AIMARK_BIN to the build directory}"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT

PASS=0
FAIL=0
ok() { # ok [DESCRIPTION]
	PASS=$((PASS + 1))
	if [ $# -gt 0 ]; then echo "ok - $1"; fi
}
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $*" >&2; }
bad() { fail "$@"; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
	local desc="$1"
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}
# run CMD...: runs a tool, keeping stdout in $W/out, stderr in $W/err and the exit code in $RC
run() {
	set +e
	"$@" >"$W/out" 2>"$W/err"
	RC=$?
	set -e
}
expect_rc() { # expect_rc WANT DESCRIPTION
	if [ "$RC" -eq "$1" ]; then ok "$2"; else fail "$2: exit $RC, want $1; stderr: $(head -c 400 "$W/err")"; fi
}
# json FILE EXPR: prints the python expression EXPR over the JSON document FILE (bound to `d`).
json() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
mode_of() { stat -c %a "$1"; } # mode_of FILE: its permission bits, in octal
# Resolves python3 once (version-manager shims cost a noticeable start-up time per call); sets $PY.
use_python() { PY="$(python3 -c 'import sys; print(sys.executable)')"; }
# Makes any command that fails outside a check end the script with its line number.
fail_on_error() { trap 'echo "FAIL: unexpected error at line $LINENO" >&2; exit 1' ERR; }
finish() {
	echo "$PASS passed, $FAIL failed"
	if [ "$FAIL" -ne 0 ]; then exit 1; fi
}
