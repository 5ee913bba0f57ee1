#!/usr/bin/env bash
# The man pages (doc/man/*.scd, built by `make man` into BUILD/man/): each
# renders without a groff warning, has the sections a reader looks for, and
# documents every long option its program's --help prints -- for hushctl,
# every option of every command and subcommand, in that command's own
# section -- so an option added without documentation fails here.
# Usage: tests/docs/man.sh BUILD   (from the top of the tree)
set -u
BUILD=${1:-build}
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok $((PASS + FAIL)) - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok $((PASS + FAIL)) - $*"; }

for tool in scdoc man groff; do
	if ! command -v "$tool" >/dev/null; then
		echo "man: '$tool' is not installed (tests/deps.sh installs it)" >&2
		echo "man: 0 passed, 1 failed"
		exit 1
	fi
done

# The four programs and their pages, as the packaging installs them.
PAGES="hushd.8 hushctl.1 hush-oci-hook.1 hush-kcheck.8"

# render PAGE: the page as a reader sees it, on lines long enough that no
# option is ever broken across two, in ASCII (so '-' stays '-').
render() {
	LC_ALL=C MANWIDTH=1000 man -l "$BUILD/man/$1" 2>/dev/null
}

# long_options TEXT: every --option named in TEXT, once each.
long_options() {
	printf '%s\n' "$1" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# mentions TEXT OPTION: OPTION appears in TEXT as a whole word
# ("--secret" is not found in "--secret-add").
mentions() {
	printf '%s\n' "$1" | grep -qE -- "(^|[^a-z0-9-])$2([^a-z0-9-]|\$)"
}

# top_section TEXT NAME: the lines of section NAME (.SH) of a rendered page.
top_section() {
	printf '%s\n' "$1" | awk -v h="$2" '
	    /^[^ ]/ { on = ($0 == h); next }
	    on { print }'
}

# sub_section TEXT NAME: the lines of subsection NAME (.SS) of a rendered page.
sub_section() {
	printf '%s\n' "$1" | awk -v h="   $2" '
	    /^[^ ]/ || /^   [^ ]/ { on = ($0 == h); next }
	    on { print }'
}

# check_options WHAT TEXT HELP: every long option of HELP is in TEXT.
check_options() {
	local what=$1 text=$2 help=$3 opt missing="" n=0
	for opt in $(long_options "$help"); do
		n=$((n + 1))
		mentions "$text" "$opt" || missing="$missing $opt"
	done
	if [ "$n" -eq 0 ]; then
		not_ok "$what: its --help names no option at all (is the help text broken?)"
	elif [ -z "$missing" ]; then
		ok "$what: all $n options of its --help are documented"
	else
		not_ok "$what: undocumented option(s):$missing"
	fi
}

# check_sections PAGE TEXT SECTION...: the page has each section.
check_sections() {
	local page=$1 text=$2 s missing=""
	shift 2
	for s in "$@"; do
		printf '%s\n' "$text" | grep -qxF -- "$s" || missing="$missing '$s'"
	done
	if [ -z "$missing" ]; then
		ok "$page has the sections $*"
	else
		not_ok "$page lacks the section(s)$missing"
	fi
}

for page in $PAGES; do
	src=doc/man/$page.scd
	if [ ! -f "$src" ] || [ ! -f "$BUILD/man/$page" ]; then
		not_ok "$page: $src or $BUILD/man/$page is missing (run 'make man')"
		continue
	fi
	if [ "$BUILD/man/$page" -ot "$src" ]; then
		not_ok "$page: $BUILD/man/$page is older than $src (run 'make man')"
		continue
	fi
	warnings=$(MANWIDTH=80 man --warnings -l "$BUILD/man/$page" 2>&1 >/dev/null)
	if [ -z "$warnings" ]; then
		ok "$page renders without warnings"
	else
		not_ok "$page: man --warnings printed: $warnings"
	fi
	name=${page%.*}
	if render "$page" | head -1 | grep -q "^$name(${page##*.}) "; then
		ok "$page is titled $name(${page##*.})"
	else
		not_ok "$page: title line is '$(render "$page" | head -1)'"
	fi
done

hushd_page=$(render hushd.8)
check_sections hushd.8 "$hushd_page" NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS \
    PROCESSES "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"
check_options hushd "$hushd_page" "$("$BUILD/hushd" --help)"

kcheck_page=$(render hush-kcheck.8)
check_sections hush-kcheck.8 "$kcheck_page" NAME SYNOPSIS DESCRIPTION OPTIONS \
    "EXIT STATUS" "SEE ALSO"
check_options hush-kcheck "$kcheck_page" "$("$BUILD/hush-kcheck" --help)"

hook_page=$(render hush-oci-hook.1)
check_sections hush-oci-hook.1 "$hook_page" NAME SYNOPSIS DESCRIPTION OPTIONS \
    "EXIT STATUS" REFUSALS ENVIRONMENT FILES "SEE ALSO"
check_options hush-oci-hook "$hook_page" "$("$BUILD/hush-oci-hook" --help)"

# hushctl: the global options in OPTIONS, then each command in its own
# subsection ("init", "secret create").
ctl_page=$(render hushctl.1)
check_sections hushctl.1 "$ctl_page" NAME SYNOPSIS DESCRIPTION OPTIONS \
    "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"
ctl_help=$("$BUILD/hushctl" --help)
check_options "hushctl (global options)" "$(top_section "$ctl_page" OPTIONS)" "$ctl_help"

# commands HELP: the names in the "Commands:" block of a help text.
commands() {
	printf '%s\n' "$1" | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
	    on && /^  [a-z]/ { print $1 }'
}

cmds=$(commands "$ctl_help")
if [ -z "$cmds" ]; then
	not_ok "hushctl --help lists no commands"
fi
for cmd in $cmds; do
	help=$("$BUILD/hushctl" "$cmd" --help)
	subs=$(commands "$help")
	if [ -z "$subs" ]; then
		paths=$cmd
	else
		paths=$(for s in $subs; do echo "$cmd:$s"; done)
	fi
	for p in $paths; do
		path=${p/:/ }
		text=$(sub_section "$ctl_page" "$path")
		if [ -z "$text" ]; then
			not_ok "hushctl $path has no section of its own in hushctl.1"
			continue
		fi
		# shellcheck disable=SC2086
		check_options "hushctl $path" "$text" "$("$BUILD/hushctl" $path --help)"
	done
done

echo "man: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
