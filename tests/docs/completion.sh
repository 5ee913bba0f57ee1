#!/usr/bin/env bash
# The bash completion of hushctl (tools/hushctl/hushctl.bash-completion),
# driven the way bash drives it: bash-completion's own helpers loaded, the
# completion function called with COMP_WORDS, COMP_CWORD, COMP_LINE and
# COMP_POINT as readline sets them, and COMPREPLY compared.  Names of
# secrets, services and nodes come from a real hushd started here (as
# root); with no daemon answering, nothing is offered and nothing printed.
# Last, every command, subcommand and long option that hushctl's --help
# texts name must be offered, so a new one cannot be left out.
# Usage: tests/docs/completion.sh BUILD   (from the top of the tree, as root)
set -u
BUILD=${1:-build}
export BUILD
COMPLETION=$PWD/tools/hushctl/hushctl.bash-completion
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

if [ ! -r "$BASH_COMPLETION" ]; then
	echo "completion: $BASH_COMPLETION is missing: install bash-completion (tests/deps.sh does)" >&2
	echo "completion: 0 passed, 1 failed"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "completion: needs root, to start the hushd whose names it completes" >&2
	echo "completion: 0 passed, 1 failed"
	exit 1
fi

# The integration tests' helpers: ok/not_ok/eq/finish, start_node, hc;
# they name this test "completion" after the script.
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

# shellcheck disable=SC1090
. "$BASH_COMPLETION" || { not_ok "cannot load $BASH_COMPLETION"; finish; }
# shellcheck disable=SC1090
. "$COMPLETION" || { not_ok "cannot load $COMPLETION"; finish; }
if [ "$(complete -p hushctl 2>/dev/null)" = "complete -F _hushctl hushctl" ]; then
	ok "the file registers _hushctl for hushctl"
else
	not_ok "the file does not register _hushctl for hushctl: '$(complete -p hushctl 2>&1)'"
fi

HUSHCTL_BIN=$PWD/$BUILD/hushctl
ERR=$T_DIR/stderr

# complete LINE: what completing at the end of LINE offers, sorted, one
# line each.  LINE's first word is replaced with the hushctl under test.
# Words are split as readline splits them: at blanks, and each run of
# COMP_WORDBREAKS characters ('=', ':') is a word of its own; a line that
# ends in a blank completes a new, empty word.
complete_line() {
	local line="$HUSHCTL_BIN ${1#hushctl }" w rest
	local -a words=()
	for w in $line; do
		rest=$w
		while [ -n "$rest" ]; do
			if [[ $rest =~ ^([=:]+)(.*)$ ]] || [[ $rest =~ ^([^=:]+)(.*)$ ]]; then
				words+=("${BASH_REMATCH[1]}")
				rest=${BASH_REMATCH[2]}
			fi
		done
	done
	[[ $line == *" " ]] && words+=("")
	COMP_WORDS=("${words[@]}")
	COMP_CWORD=$((${#words[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_hushctl hushctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$ERR"
	if [ -s "$ERR" ]; then
		echo "STDERR: $(cat "$ERR")"
	fi
	if [ ${#COMPREPLY[@]} -gt 0 ]; then
		printf '%s\n' "${COMPREPLY[@]}" | sort
	fi
}

# expect "LINE" "EXPECTED WORDS": completing LINE offers exactly these.
expect() {
	local got want
	got=$(complete_line "$1" | tr '\n' ' ' | sed 's/ $//')
	# shellcheck disable=SC2086 # $2 is a list of words
	want=$(printf '%s\n' $2 | sort | tr '\n' ' ' | sed 's/ $//')
	eq "'$1<TAB>' offers: $want" "$want" "$got"
}

# Without a daemon: the static parts, and silence where names would come.
NOSOCK=$T_DIR/nothing-here.sock
export HUSH_CONTROL_SOCKET=$NOSOCK
expect "hushctl " "backup ca container help init join join-token leave node restore secret service status unlock unlock-key update"
expect "hushctl se" "secret service"
expect "hushctl -" "--control-socket -h --help -v --version"
expect "hushctl --control-socket $T_DIR/nothing-here.sock se" "secret service"
expect "hushctl secret " "create inspect ls rm update"
expect "hushctl node " "demote inspect ls promote repair rm update"
expect "hushctl secret ls --" "--format --help --quiet"
expect "hushctl secret list --" "--format --help --quiet"
expect "hushctl service ls --" "--format --help --placed --quiet"
expect "hushctl unlock --" "--ask --help"
expect "hushctl service update web --s" "--secret-add --secret-rm"
expect "hushctl status --format " "json table"
expect "hushctl status --format=" "json table"
expect "hushctl container ls --format j" "json"
expect "hushctl secret inspect --format " "json"
expect "hushctl node inspect -f " "json"
expect "hushctl init --autolock=" "false true"
expect "hushctl update --autolock=f" "false"
expect "hushctl join-token " "manager worker"
expect "hushctl join-token --rotate m" "manager"
expect "hushctl ca --" "--ca-cert --ca-key --cert-expiry --detach --external-ca --help --quiet --rotate"
expect "hushctl init --ca" "--ca-cert --ca-key"
expect "hushctl help " "backup ca container help init join join-token leave node restore secret service status unlock unlock-key update"
expect "hushctl service create web --constraint node." "node.id== node.labels. node.role=="
expect "hushctl service create web --constraint node.role==" "manager worker"
expect "hushctl service update web --constraint-add node.role!=w" "worker"
expect "hushctl secret rm " ""
expect "hushctl service inspect " ""
expect "hushctl node promote " ""

# File names: a secret's data, and the socket.
mkdir -p "$T_DIR/files/sub"
: >"$T_DIR/files/db_password.txt"
: >"$T_DIR/files/dh.pem"
cd "$T_DIR/files" || exit 1
# (readline adds the '/' of a directory: _filedir sets -o filenames)
expect "hushctl secret create db_pw " "db_password.txt dh.pem sub"
expect "hushctl secret create -l a=b db_pw d" "db_password.txt dh.pem"
expect "hushctl ca --rotate --ca-cert d" "db_password.txt dh.pem"
expect "hushctl init --ca-cert dh.pem --ca-key d" "db_password.txt dh.pem"
expect "hushctl --control-socket s" "sub"
cd - >/dev/null || exit 1

# With a daemon: the names it holds.
start_node n1 || { not_ok "hushd did not start"; finish; }
SOCK=$T_DIR/n1.sock
check "a cluster is made" hc n1 init
printf 'pw' | hc n1 secret create db_pw - >/dev/null
printf 'pw' | hc n1 secret create db_user - >/dev/null
printf 'key' | hc n1 secret create tls.key - >/dev/null
check "a service is made" hc n1 service create web --secret db_pw
NODE=$(hc n1 node ls -q)
export HUSH_CONTROL_SOCKET=$SOCK
expect "hushctl secret rm " "db_pw db_user tls.key"
expect "hushctl secret rm d" "db_pw db_user"
expect "hushctl secret remove db_pw t" "tls.key"
expect "hushctl secret inspect --format json db_u" "db_user"
expect "hushctl secret update t" "tls.key"
expect "hushctl service rm " "web"
expect "hushctl service update " "web"
expect "hushctl service claim " "web"
expect "hushctl service claim web --" "--help --rotate"
expect "hushctl service c" "claim create"
expect "hushctl service update web --secret-rm db_" "db_pw db_user"
expect "hushctl service create api --secret " "db_pw db_user tls.key"
expect "hushctl service create api --secret source=db_u" "db_user"
expect "hushctl service create api --secret db_pw,target=" ""
expect "hushctl node promote " "$NODE"
expect "hushctl node update --label-add zone=a " "$NODE"
# The socket on the command line wins over the environment.
export HUSH_CONTROL_SOCKET=$NOSOCK
expect "hushctl --control-socket $SOCK secret rm " "db_pw db_user tls.key"
expect "hushctl --control-socket=$SOCK service rm " "web"
expect "hushctl secret rm " ""
unset HUSH_CONTROL_SOCKET

# Honesty: all that hushctl's help texts name is offered.
help_commands() {
	awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
	    on && /^  [a-z]/ { print $1 }'
}
# The options a help text defines: "  -q, --quiet ..." or "      --rotate ...".
long_options() {
	grep -oE -- '^ +(-[a-zA-Z], +)?--[a-z][a-z0-9-]*' |
	    grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
# offers "LINE" WORD...: completing LINE offers each WORD.
offers() {
	local line=$1 got w missing=""
	shift
	got=$(complete_line "$line")
	for w in "$@"; do
		printf '%s\n' "$got" | grep -qxF -- "$w" || missing="$missing $w"
	done
	if [ -z "$missing" ]; then
		ok "'$line<TAB>' offers all $# that --help names"
	else
		not_ok "'$line<TAB>' does not offer:$missing"
	fi
}
cmds=$("$HUSHCTL_BIN" --help | help_commands)
if [ -z "$cmds" ]; then
	not_ok "hushctl --help lists no commands"
fi
# shellcheck disable=SC2086
offers "hushctl " $cmds
# shellcheck disable=SC2046
offers "hushctl -" $("$HUSHCTL_BIN" --help | long_options)
for cmd in $cmds; do
	subs=$("$HUSHCTL_BIN" "$cmd" --help | help_commands)
	if [ -z "$subs" ]; then
		# shellcheck disable=SC2046
		offers "hushctl $cmd -" $("$HUSHCTL_BIN" "$cmd" --help | long_options)
		continue
	fi
	# shellcheck disable=SC2086
	offers "hushctl $cmd " $subs
	for sub in $subs; do
		# shellcheck disable=SC2046
		offers "hushctl $cmd $sub -" $("$HUSHCTL_BIN" "$cmd" "$sub" --help | long_options)
	done
done

finish
