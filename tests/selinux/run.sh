#!/bin/bash
# Checks what the built SELinux module really holds, in two layers:
#
# 1. The module alone: the build log has no warning (a deprecated refpolicy
#    interface warns and is then dropped by a later release), the package
#    unpacks (semodule_unpackage), decompiles to CIL (checkmodule -b -C)
#    and declares its types, and its file contexts name every path.
# 2. Linked into Debian's reference policy: selinux-policy-default's module
#    store is copied to a scratch root (the host's store is never touched)
#    and the module installed there with `semodule -n`, which links it
#    against every module of the distribution (each type, attribute and
#    class it requires must exist) and writes the kernel policy and
#    file_contexts.  rules.py (setools, the library behind sesearch) then
#    asks that policy for the rules hushd needs, and for a few it must not
#    get; matchpathcon asks the file_contexts for the installed paths.
#
# The kernel here has no SELinux: nothing is loaded or enforced, so this
# says the policy is what we meant, not that hushd runs under it.
#
# Usage: tests/selinux/run.sh build/selinux/hushd.pp
set -u

pp=${1:?usage: run.sh PATH/hushd.pp}
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
die() { echo "selinux: $*" >&2; exit 1; }

for tool in semodule_unpackage checkmodule semodule seinfo matchpathcon; do
	command -v "$tool" >/dev/null || die "$tool is missing (run 'make deps')"
done
/usr/bin/python3 -c 'import setools' 2>/dev/null ||
	die "Debian's python3-setools is missing (run 'make deps')"
[ -f "$pp" ] || die "$pp does not exist (run 'make selinux')"
[ -d /var/lib/selinux/default ] && [ -d /etc/selinux/default ] ||
	die "Debian's reference policy store is missing: install selinux-policy-default (run 'make deps')"

work=$(mktemp -d /tmp/hush-selinux.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$work"' EXIT

# ---- 1. the module alone --------------------------------------------------
log=$(dirname "$pp")/build.log
if [ ! -f "$log" ]; then
	bad "no build log at $log"
elif grep -Eiq 'warning|deprecated|error' "$log"; then
	bad "the module build warned:"; grep -Ei 'warning|deprecated|error' "$log"
else
	ok
fi

semodule_unpackage "$pp" "$work/hushd.mod" "$work/hushd.fc" ||
	die "semodule_unpackage cannot unpack $pp"
checkmodule -M -b -C -o "$work/hushd.cil" "$work/hushd.mod" >"$work/checkmodule.log" 2>&1 ||
	{ cat "$work/checkmodule.log"; die "checkmodule cannot decompile the module"; }
for t in hushd_t hushd_exec_t hushd_var_lib_t hushd_var_run_t hushd_control_sock_t \
    hushd_secret_t hushd_unit_t hushd_hook_t hushd_hook_exec_t hushd_kcheck_t hushd_kcheck_exec_t; do
	if grep -qx "(type $t)" "$work/hushd.cil"; then ok; else bad "the module does not declare $t"; fi
done

# Each path with its file-type flag and type, as the package's .fc says it.
fc_has() { # REGEX FLAG TYPE
	# Through the environment: awk -v would take the backslashes as escapes.
	if P=$1 F=$2 T="system_u:object_r:$3:s0" awk \
	    '$1 == ENVIRON["P"] && ((ENVIRON["F"] == "" && NF == 2 && $2 == ENVIRON["T"]) ||
	     (NF == 3 && $2 == ENVIRON["F"] && $3 == ENVIRON["T"])) { found = 1 }
	     END { exit !found }' "$work/hushd.fc"; then
		ok
	else
		bad "the module's file contexts lack '$1 $2 $3'"
	fi
}
fc_has '/usr/sbin/hushd' -- hushd_exec_t
fc_has '/usr/sbin/hush-kcheck' -- hushd_kcheck_exec_t
fc_has '/usr/libexec/hush/hush-oci-hook' -- hushd_hook_exec_t
fc_has '/var/lib/hush(/.*)?' '' hushd_var_lib_t
fc_has '/run/hush(/.*)?' '' hushd_var_run_t
fc_has '/run/hush/control\.sock' -s hushd_control_sock_t
fc_has '/usr/lib/systemd/system/hushd\.service' -- hushd_unit_t

# ---- 2. linked into Debian's reference policy ------------------------------
root=$work/root
mkdir -p "$root/var/lib" "$root/etc" || die "cannot make $root"
cp -a /var/lib/selinux "$root/var/lib/" && cp -a /etc/selinux "$root/etc/" ||
	die "cannot copy the policy store"
semodule -p "$root" -s default -n -i "$pp" >"$work/semodule.log" 2>&1 ||
	{ cat "$work/semodule.log"; die "the module does not link into Debian's reference policy"; }
ok
policy=
for f in "$root"/etc/selinux/default/policy/policy.*; do [ -f "$f" ] && policy=$f; done
fcfile=$root/etc/selinux/default/contexts/files/file_contexts
[ -n "$policy" ] && [ -f "$fcfile" ] || die "semodule wrote no kernel policy or file_contexts"
if semodule -p "$root" -s default -l | grep -qx 'hushd'; then ok; else bad "semodule -l does not list hushd"; fi

# The rules, checked by rules.py in one process (its header says how).
rules_out=$(/usr/bin/python3 "$(dirname "$0")/rules.py" "$policy" <<'CHECKS'
type hushd_t
type hushd_exec_t
type hushd_var_lib_t
type hushd_var_run_t
type hushd_control_sock_t
type hushd_secret_t
trans init_t hushd_exec_t process hushd_t                 -- systemd starts hushd in hushd_t

# Capabilities: each one the processes keep, and none of a few they never use.
allow hushd_t hushd_t capability sys_admin,sys_chroot,sys_ptrace,dac_override,chown,fowner,net_admin -- the mounter's capabilities
allow hushd_t hushd_t capability setuid,setgid,setpcap,kill,audit_write,audit_control -- the parent's capabilities
deny hushd_t * capability sys_module,sys_rawio,sys_boot,sys_time,mknod,setfcap,linux_immutable,fsetid,net_raw,sys_resource -- capabilities hushd never uses
allow hushd_t hushd_t process fork,setcap,setrlimit,sigkill,signal -- fork, capset, RLIMIT_CORE, signals
deny hushd_t * process execmem,execstack,transition,dyntransition,setexec -- W^X and no other domain
deny hushd_t * file execute_no_trans                       -- hushd never execs a program

# Keyring.
allow hushd_t hushd_t key create,read,write,search,link,setattr,view -- its own keyrings and keys
allow hushd_t systemd_passwd_agent_t key read,search,view,link -- the hush-unlock key cached by systemd-ask-password
allow hushd_t init_t key search,view                       -- root's user keyring made by systemd
allow hushd_t unconfined_t key read,search,view            -- a key an unconfined admin cached

# Netlink: proc connector, audit, route dump.
allow hushd_t hushd_t netlink_connector_socket create,bind,read,setopt -- proc connector
allow hushd_t hushd_t netlink_audit_socket create,write,read,nlmsg_relay,nlmsg_read -- audit records and AUDIT_GET
allow hushd_t hushd_t netlink_route_socket create,bind,nlmsg_read -- getaddrinfo's route dump

# The peer port (4477 is unreserved, checked below) and unix sockets.
allow hushd_t unreserved_port_t tcp_socket name_bind,name_connect -- listen on 4477 and reach peers
allow hushd_t node_t tcp_socket node_bind                  -- bind an address
allow hushd_t hushd_t tcp_socket create,listen,accept,connect,read,write -- TLS endpoint
allow hushd_t hushd_t unix_stream_socket create,read,write,listen,accept,bind -- socketpairs and the control socket

# Files: state and run directories, the control socket, transitions.
allow hushd_t hushd_var_lib_t dir create,add_name,remove_name,write,search -- state dir
allow hushd_t hushd_var_lib_t file create,read,write,rename,unlink,lock -- state files and hushd.lock
allow hushd_t hushd_var_run_t file create,read,write,rename,unlink -- container records
allow hushd_t hushd_control_sock_t sock_file create,setattr,unlink -- control socket
trans hushd_t var_lib_t dir hushd_var_lib_t               -- /var/lib/hush made as hushd_var_lib_t
trans hushd_t var_run_t dir hushd_var_run_t               -- /run/hush made as hushd_var_run_t
trans hushd_t hushd_var_run_t sock_file hushd_control_sock_t -- the control socket labelled on creation

# The mounter: tmpfs, its files, mount points in container rootfs, /proc/PID.
allow hushd_t tmpfs_t filesystem mount,unmount,remount     -- the secrets tmpfs
trans hushd_t tmpfs_t file hushd_secret_t                 -- secret files labelled on creation
trans hushd_t tmpfs_t dir hushd_secret_t                  -- ..data directories labelled on creation
trans hushd_t tmpfs_t lnk_file hushd_secret_t             -- per-file links labelled on creation
allow hushd_t hushd_secret_t file create,write,setattr,rename,unlink,mounton -- write secret files, bind one
allow hushd_t hushd_secret_t lnk_file create,rename,unlink -- ..data and per-file links
allow hushd_t var_lib_t dir mounton,create,add_name,search -- run/secrets in a rootfs under /var/lib
allow hushd_t etc_t file mounton,create,setattr,unlink     -- an absolute target's empty file
allow hushd_t var_lib_t dir setattr,rmdir,remove_name      -- run/secrets owned like its parent
allow hushd_t unconfined_t file read                       -- /proc/PID of a container (ptrace read check)
allow hushd_t unconfined_t dir search                      -- /proc/PID
allow hushd_t nsfs_t file read,open                        -- /proc/PID/ns/mnt
deny hushd_t shadow_t file mounton,read,write              -- /etc/shadow
deny hushd_t security_t file write                         -- selinuxfs

# Logging and sd_notify.
allow hushd_t devlog_t sock_file write                     -- journald / syslog
allow hushd_t init_t unix_dgram_socket sendto              -- sd_notify

# The hook: the control socket, and none of hushd's own files.
allow hushd_hook_t hushd_t unix_stream_socket connectto    -- hook connects to hushd
allow hushd_t hushd_hook_t fd use                           -- hushd takes the pidfd the hook sends
allow hushd_hook_t hushd_control_sock_t sock_file write    -- hook opens the control socket
allow hushd_hook_t var_run_t file read,open                -- hook reads a bundle's config.json
deny hushd_hook_t hushd_var_lib_t file read                -- hook reads the state dir
deny hushd_hook_t hushd_var_run_t file read                -- hook reads the container records
deny hushd_hook_t hushd_secret_t file read                 -- hook reads secret files

# The rest of the system.
allow init_t hushd_t unix_stream_socket connectto          -- hush-unlock.service (init_t) reaches hushd
allow sysadm_t hushd_t unix_stream_socket connectto        -- sysadm uses hushctl
allow sysadm_t hushd_unit_t service start,stop,status      -- sysadm starts the unit
trans sysadm_t hushd_kcheck_exec_t process hushd_kcheck_t -- sysadm runs hush-kcheck confined
allow hushd_kcheck_t tmpfs_t filesystem mount              -- hush-kcheck's probe tmpfs
allow hushd_kcheck_t root_t dir mounton                    -- hush-kcheck makes / private in its own namespace
deny user_t hushd_t unix_stream_socket connectto           -- an unprivileged user cannot reach hushd
deny user_t hushd_secret_t file read                       -- an unprivileged user cannot read secrets
CHECKS
)
rules_rc=$?
printf '%s\n' "$rules_out" | grep -v '^rules: '
n=$(printf '%s\n' "$rules_out" | sed -n 's/^rules: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
if [ -z "$n" ]; then
	bad "rules.py did not run (exit $rules_rc):"; printf '%s\n' "$rules_out"
else
	pass=$((pass + ${n% *})); fail=$((fail + ${n#* }))
	[ "${n#* }" -eq 0 ] && [ "$rules_rc" -ne 0 ] && bad "rules.py exited $rules_rc"
fi

# TCP 4477, the default peer port, is an unreserved port in this policy.
if seinfo --portcon=4477 "$policy" | grep -q 'tcp 1024-[0-9]* system_u:object_r:unreserved_port_t'; then
	ok
else
	bad "TCP 4477 is not an unreserved port in this policy"
fi

# Labels of the installed paths, from the linked file_contexts.
label_is() { # PATH MODE TYPE
	local got
	got=$(matchpathcon -f "$fcfile" -m "$2" "$1" 2>&1 | awk '{ print $2 }')
	if [ "$got" = "system_u:object_r:$3:s0" ]; then ok; else bad "$1 is labelled '$got', not $3"; fi
}
label_is /usr/sbin/hushd file hushd_exec_t
label_is /usr/sbin/hush-kcheck file hushd_kcheck_exec_t
label_is /usr/libexec/hush/hush-oci-hook file hushd_hook_exec_t
label_is /usr/bin/hushctl file bin_t
label_is /lib/systemd/system/hushd.service file hushd_unit_t
label_is /var/lib/hush dir hushd_var_lib_t
label_is /var/lib/hush/raft/0000000001-0000000002 file hushd_var_lib_t
label_is /run/hush dir hushd_var_run_t
label_is /var/run/hush dir hushd_var_run_t
label_is /run/hush/control.sock socket hushd_control_sock_t
label_is /run/hush/0123abcd.json file hushd_var_run_t

echo "selinux: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
