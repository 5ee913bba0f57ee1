#!/usr/bin/env python3
"""Write an OCI bundle's config.json for hush's runtime tests.

The same file serves runc, crun and (through --annotation only) podman,
so it keeps to what all of them accept: a busybox rootfs built by the
test, no cgroup mount (crun runs here with cgroups disabled), no
terminal.  The hooks are the real hush-oci-hook, wired the way the
README tells a runc or crun user to wire it.
"""
import argparse
import json
import sys


def mounts(userns):
    m = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]},
    ]
    if userns:
        # sysfs cannot be mounted from a user namespace that does not own
        # the network namespace's parent: bind the host's, as rootless
        # runtimes do.
        m.append({"destination": "/sys", "type": "none", "source": "/sys",
                  "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    else:
        m.append({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                  "options": ["nosuid", "noexec", "nodev", "ro"]})
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--rootfs", required=True, help="path of the rootfs (absolute or relative to the bundle)")
    ap.add_argument("--service", help="io.hush.service annotation")
    ap.add_argument("--annotation", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--hook", help="path of hush-oci-hook")
    ap.add_argument("--socket", help="hushd's control socket")
    ap.add_argument("--no-poststop", action="store_true")
    ap.add_argument("--user", default="0:0", help="UID:GID of the process")
    ap.add_argument("--userns", help="HOSTID:SIZE: a user namespace mapping 0 to HOSTID")
    ap.add_argument("--bind", action="append", default=[],
                    help="HOSTPATH:CTRPATH[:OPT,...], read-write; OPTs (e.g. rshared) "
                    "are added to the mount's options")
    ap.add_argument("--rootfs-propagation",
                    help="linux.rootfsPropagation (shared, slave, private, ...)")
    ap.add_argument("--readonly", action="store_true", help="read-only rootfs")
    ap.add_argument("--env", action="append", default=[],
                    help="KEY=VALUE added to process.env (e.g. HUSH_CLAIM)")
    ap.add_argument("args", nargs="+")
    o = ap.parse_args()

    uid, gid = (int(x) for x in o.user.split(":"))
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    c = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid},
            "args": o.args,
            "env": ["PATH=/bin", "HOME=/"] + o.env,
            "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": o.rootfs, "readonly": o.readonly},
        "hostname": "ctr",
        "mounts": mounts(o.userns is not None),
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    for b in o.bind:
        src, dst, *extra = b.split(":", 2)
        opts = ["rbind", "rw"] + (extra[0].split(",") if extra else [])
        c["mounts"].append({"destination": dst, "type": "none", "source": src,
                            "options": opts})
    if o.rootfs_propagation:
        c["linux"]["rootfsPropagation"] = o.rootfs_propagation
    if o.userns:
        host, size = (int(x) for x in o.userns.split(":"))
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": host, "size": size}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": host, "size": size}]
    ann = dict(a.split("=", 1) for a in o.annotation)
    if o.service is not None:
        ann["io.hush.service"] = o.service
    if ann:
        c["annotations"] = ann
    if o.hook:
        def hook(stage):
            args = ["hush-oci-hook"]
            if o.socket:
                args += ["--control-socket", o.socket]
            return [{"path": o.hook, "args": args + [stage], "timeout": 15}]
        c["hooks"] = {"createRuntime": hook("createRuntime")}
        if not o.no_poststop:
            c["hooks"]["poststop"] = hook("poststop")
    with open(o.bundle + "/config.json", "w") as f:
        json.dump(c, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
