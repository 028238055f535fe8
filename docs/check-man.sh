#!/usr/bin/env bash
# check-man.sh PROGRAM MANPAGE: every option PROGRAM -h lists is described in
# MANPAGE (as .B/.BI \-x), and the manual offers no option the program lacks.
set -euo pipefail
prog=$1 man=$2
listed=$("$prog" -h | grep -oE '^  -[a-zA-Z]' | tr -d ' -' | sort -u)
documented=$(grep -oE '^\.BR? ?I? ?"?\\-[a-zA-Z]' "$man" | grep -oE '[a-zA-Z]$' | sort -u)
# -h itself is in every usage line, not in the option list.
listed=$(printf '%s\nh\n' "$listed" | sort -u)
if [ "$listed" != "$documented" ]; then
	echo "options of $prog: $(echo $listed)"
	echo "options in $man: $(echo $documented)"
	exit 1
fi
echo "$man documents: $(echo $documented)"
