/*
 * What the hook reads from the OCI runtime: the container's state (JSON on
 * stdin, runtime-spec "State") and its bundle's config.json.  Both parsers
 * are pure (bytes in, struct out) so unit tests and fuzzers drive them
 * directly; reading the bytes is input.c's job.
 *
 * Both documents are parsed strictly: a duplicated key, a value of the
 * wrong type, or a string outside its bounds is an error, and each error
 * message starts with the field it is about ("pid: ...",
 * "linux.uidMappings[2].size: ...").  Messages never echo more than a
 * short, printable excerpt of what the runtime wrote, and never a byte
 * of a claim: not even in a JSON syntax error, which might have stopped
 * inside one.  Members the hook does not use are ignored, as the
 * runtime-spec asks of extensions.
 */
#ifndef HOOK_OCI_H
#define HOOK_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idmap.h"
#include "msg.h"
#include "names.h"

#define OCI_STATE_MAX		(1024 * 1024)		/* stdin */
#define OCI_CONFIG_MAX		(16 * 1024 * 1024)	/* config.json */
/* The annotation by which a container asks for a service's secrets. */
#define OCI_SERVICE_ANNOTATION	"io.hush.service"
/*
 * The two ways a container gives the service's claim (`hushctl service
 * claim NAME`), the proof that whoever started it may have the service's
 * secrets: an annotation, or a variable in process.env.  The environment
 * lets the claim come from a store of secrets rather than a command line
 * or a pod spec: podman fills it from one of its own secrets (--secret
 * NAME,type=env,target=HUSH_CLAIM), Kubernetes from a Secret (env
 * valueFrom secretKeyRef).
 */
#define OCI_CLAIM_ANNOTATION	"io.hush.claim"
#define OCI_CLAIM_ENV		"HUSH_CLAIM"
/*
 * Longest claim forwarded: T_CLAIM's bound on CTL_CONTAINER_ATTACH
 * (lib/msg.c).  A claim hushctl prints is 86 bytes; hushd judges it, the
 * hook only refuses what cannot be one.
 */
#define OCI_CLAIM_MAX		128
/* The kernel's PID_MAX_LIMIT: no pid is larger on any configuration. */
#define OCI_PID_MAX		4194304

enum oci_stage {
	OCI_CREATE_RUNTIME,	/* pid required; config.json fully read */
	OCI_POSTSTOP,		/* pid may be 0 or absent; only annotations used */
};

/*
 * What a document's annotations say about hush.  The claim is a secret:
 * never printed, and wiped (sodium_memzero) once sent.
 */
struct oci_annotations {
	bool	present;	/* the document has an "annotations" object */
	bool	has_service;	/* ... with OCI_SERVICE_ANNOTATION in it */
	char	service[SERVICE_NAME_MAX + 1];	/* service_name_check()ed */
	/*
	 * OCI_CLAIM_ANNOTATION, read only beside a service and only at
	 * OCI_CREATE_RUNTIME; oci_claim_check()ed, NUL-padded to the end.
	 */
	bool	has_claim;
	char	claim[OCI_CLAIM_MAX + 1];
};

struct oci_state {
	/*
	 * 1..HUSH_CONTAINER_ID_MAX bytes of printable ASCII without space
	 * or '/', and not "." or "..": hushd may name a directory after it,
	 * and it appears in every error line.
	 */
	char			id[HUSH_CONTAINER_ID_MAX + 1];
	uint32_t		pid;		/* 0: absent (poststop only) */
	char			bundle[HUSH_PATH_MAX + 1];	/* absolute */
	struct oci_annotations	ann;
};

struct oci_config {
	/*
	 * root.path made absolute and normalised (see oci_root_resolve);
	 * empty at OCI_POSTSTOP.
	 */
	char			root[HUSH_PATH_MAX + 1];
	struct oci_annotations	ann;
	/*
	 * linux.uidMappings and linux.gidMappings, both given or neither;
	 * userns is false when neither is (the container keeps the host's
	 * ids).  Checked as the kernel would (lib/idmap.h).
	 */
	bool			userns;
	struct idmap		uid, gid;
	/*
	 * OCI_CLAIM_ENV=VALUE in process.env (OCI_CREATE_RUNTIME only);
	 * given more than once, every value was the same.  A secret, like
	 * ann.claim; oci_claim_check()ed, NUL-padded to the end.
	 */
	bool			has_env_claim;
	char			env_claim[OCI_CLAIM_MAX + 1];
};

/*
 * Parses the state JSON in buf[0..len) (not NUL-terminated).  Requires
 * ociVersion, id, status and bundle; at OCI_CREATE_RUNTIME also pid in
 * 1..OCI_PID_MAX, at OCI_POSTSTOP pid is 0..OCI_PID_MAX or absent.  0 or
 * a negative HUSH_E_* with a one-line message in why.
 */
int	oci_state_parse(const char *buf, size_t len, enum oci_stage stage,
	    struct oci_state *st, char *why, size_t whylen);

/*
 * Parses config.json in buf[0..len) of the bundle at the absolute path
 * bundle.  At OCI_CREATE_RUNTIME: root.path (resolved against bundle),
 * annotations, linux.uidMappings/gidMappings (at most IDMAP_MAX entries
 * each, no overlap, no overflow), and OCI_CLAIM_ENV in process.env (an
 * array of strings; the variable given twice with different values is
 * refused).  At OCI_POSTSTOP only the annotations.  0 or a negative
 * HUSH_E_* with a message in why.
 */
int	oci_config_parse(const char *buf, size_t len, const char *bundle,
	    enum oci_stage stage, struct oci_config *cfg, char *why,
	    size_t whylen);

/*
 * Whether s[0..len) can be a claim: 1..OCI_CLAIM_MAX bytes of printable
 * ASCII without spaces.  Nothing more: hushd judges the claim itself.
 * 0, or HUSH_E_FORMAT / HUSH_E_TOOBIG with a message that starts with
 * field and gives the length and the position of a bad byte, never a
 * byte of s.
 */
int	oci_claim_check(const char *field, const char *s, size_t len,
	    char *why, size_t whylen);
/*
 * *len less one trailing newline, if s[0..*len) ends with one: what
 * `hushctl service claim web | podman secret create web-claim -` and a
 * Kubernetes secret made from a file both leave.  A claim holds no
 * whitespace, so dropping it can make no claim out of another.
 */
void	oci_claim_trim(const char *s, size_t *len);

/*
 * The claim a container gives, from ann (the annotations its service
 * came from, the state's or config.json's) or cfg's environment: *claim
 * points into ann or cfg, or is NULL when the container gives none (hushd
 * then refuses it, with the reason).  Both may give it if they agree;
 * if they differ, HUSH_E_FORMAT and a message saying so, naming no value.
 */
int	oci_claim_pick(const struct oci_annotations *ann,
	    const struct oci_config *cfg, const char **claim, char *why,
	    size_t whylen);

/*
 * The container's root as an absolute, normalised path: path itself when
 * absolute, else bundle/path, with "//", "." and ".." removed lexically
 * (as runc does with filepath.Join).  ".." may lead out of the bundle
 * (a relative "../rootfs" is as legitimate as an absolute path naming the
 * same directory) but not above "/", and the result must not be "/":
 * mounting at <root>/run/secrets would then mean the host's own
 * /run/secrets.  Lexical, so a symlink in the path is not followed here;
 * hushd must resolve the result without following symlinks.
 * out has room for HUSH_PATH_MAX + 1 bytes.
 */
int	oci_root_resolve(const char *bundle, const char *path,
	    char out[HUSH_PATH_MAX + 1], char *why, size_t whylen);

#endif
