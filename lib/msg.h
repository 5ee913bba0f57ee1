/*
 * Every message hush sends on any channel — control socket, privsep
 * socketpairs, replicated raft commands, snapshot records — is declared here
 * with its field schema.  lib/wire.c enforces the schema on receipt, so a
 * handler only ever sees messages whose fields have the declared kinds and
 * bounds.  Numbers are part of the on-disk and on-wire format: append only.
 */
#ifndef HUSH_MSG_H
#define HUSH_MSG_H

#include <stdint.h>

#include "wire.h"

/* Largest secret value, as in Docker (500 KiB - 1 byte... we allow 511999). */
#define HUSH_SECRET_MAX 511999
#define HUSH_REQ_ID_LEN 16
/* A service's bounds, chosen so a REC_SERVICE fits HUSH_SERVICE_RECORD_MAX. */
#define HUSH_SERVICE_GRANTS_MAX 128
#define HUSH_SERVICE_CONSTRAINTS_MAX 32
#define HUSH_TARGET_MAX 255
#define HUSH_CONSTRAINT_MAX 1024
#define HUSH_SERVICE_RECORD_MAX (128 * 1024)
/*
 * One answer to a node's DSP_ASSIGNMENTS: the services placed on it (at
 * most half of this) and as many values as fit, at least one of any size.
 */
#define HUSH_ASSIGN_ANSWER_MAX (1024 * 1024 + 65536)
/* Longest OCI container id accepted (runc's are 64 hex digits). */
#define HUSH_CONTAINER_ID_MAX 1024
/*
 * Lists and inspects answer a page at a time: at most HUSH_PAGE_BYTES of
 * records (and at least one record, which every kind keeps under
 * HUSH_SERVICE_RECORD_MAX), well under the smallest cap a reply crosses:
 * the raft process's answer (WIRE_MAX_MSG), a leader's sealed answer to a
 * follower (HUSH_ASSIGN_ANSWER_MAX) and the control socket
 * (CONTROL_MAX_MSG, daemon/parent/parent.h), with room for what the
 * parent adds to each record (a node's live state).  A list request may
 * carry T_CURSOR and its answer carries T_CURSOR while records remain;
 * an inspect answers its T_REFs in order and, when they do not all fit,
 * says in T_COUNT how many it answered, so the client asks again for the
 * rest.  Each page is read on its own: a record present from the first
 * page to the last is listed exactly once, one created or removed
 * meanwhile may or may not be.
 */
#define HUSH_PAGE_BYTES (256 * 1024)
/* A cursor is a record's key: a store id, or a container id. */
#define HUSH_CURSOR_MAX HUSH_CONTAINER_ID_MAX
/* Longest path in a message: PATH_MAX less its NUL. */
#define HUSH_PATH_MAX 4095

/*
 * The versions of the store's snapshot records (SNAP_HEADER's T_VERSION)
 * this hush writes and still reads; daemon/raft/store.h says what each
 * added.  Here because backups carry them too (lib/backup_contents.c).
 */
#define HUSH_SNAP_VERSION	3
#define HUSH_SNAP_VERSION_MIN	1

/* Field tags: one namespace for all messages. */
enum msg_tag {
	T_ERRCODE = 1,		/* u32, positive hush_err */
	T_ERRMSG,		/* operator-facing detail */
	T_REQ_ID,		/* 16 bytes chosen by the client: idempotency key */
	T_NODE_ID,
	T_CLUSTER_ID,
	T_ROLE,			/* enum node_role */
	T_LOCKED,
	T_INITIALIZED,
	T_AUTOLOCK,
	T_CERT_EXPIRY,		/* seconds */
	T_ADVERTISE_ADDR,
	T_LISTEN_ADDR,
	T_TOKEN,
	T_KEK,			/* raw 32-byte unlock key */
	T_ROTATE,
	T_NAME,
	T_DATA,
	T_LABEL,		/* "key=value", repeated */
	T_SECRET_ID,
	T_REF,			/* name or id, repeated */
	T_SECRET,		/* nested REC_SECRET, repeated */
	T_CREATED,
	T_UPDATED,
	T_VERSION,
	T_RAFT_TERM,
	T_RAFT_LEADER,
	T_RAFT_STATE,
	T_CERT_NOT_AFTER,
	T_CA_CERT,
	T_CA_KEY,
	T_CSR,
	T_CERT,
	T_SUBJ_CN,
	T_SUBJ_OU,
	T_SUBJ_O,
	T_LIFETIME,
	T_NOW,
	T_DIGEST,
	T_DEK,
	T_ADDRESS,
	T_BOOTSTRAP,
	T_COMMAND,		/* an encoded CMD_* message */
	T_QUERY,		/* an encoded QRY_* message */
	T_WORKER_SECRET,
	T_MANAGER_SECRET,
	T_SNAP_THRESHOLD,
	T_RAFT_INDEX,
	T_DUPLICATE,
	T_EVENT,
	T_PEER_ID,
	T_HUSH_VERSION,
	T_DATA_LEN,
	T_KEY_STORAGE,		/* where keys are held: "kernel keyring" */
	T_SNAP_TRAILING,
	T_CHILD,		/* test builds only: which child */
	T_WORKER_TOKEN,
	T_MANAGER_TOKEN,
	T_FAULT,		/* test builds only: what to do */
	T_NODE_KEY,		/* PKCS#8 DER of the node's TLS key */
	T_ALPN,			/* "hush-join/1", "hush-raft/1", "hush-dispatch/1" */
	T_MANAGER_ADDR,		/* advertise address of a manager, repeated */
	T_PAYLOAD,		/* an encoded peer request or reply (DSP_*) */
	T_AVAILABILITY,
	T_STATUS_TEXT,
	T_LEADER_ADDR,
	T_FORCE,
	T_NODE,			/* nested REC_NODE, repeated */
	T_REACHABLE,
	T_RECORDS,		/* a record list (wire_enc_init_list) of T_SECRET, T_NODE or T_SERVICE */
	T_SERVICE_ID,
	T_SERVICE,		/* nested REC_SERVICE (list item) */
	T_GRANT,		/* nested REC_GRANT (commands) or REC_SERVICE_GRANT, repeated */
	T_TARGET,		/* file name of a granted secret */
	T_UID,
	T_GID,
	T_MODE,			/* permission bits, 0..0777 */
	T_CONSTRAINT,		/* placement constraint text, repeated */
	T_SECRET_RM,		/* secret (name or id) whose grants to drop, repeated */
	T_CONSTRAINT_RM,	/* constraint text to drop, repeated */
	T_LABEL_RM,		/* label key to drop, repeated */
	T_HAVE,			/* "secret id:version" a node holds, repeated */
	T_SECRET_DATA,		/* nested REC_SECRET_DATA, repeated */
	T_MORE,			/* the answer is partial: ask again */
	T_COUNT,
	T_CONTAINER_ID,		/* the OCI runtime's container id */
	T_SERVICE_NAME,		/* a service name (names.h service_name_check) */
	T_PID,			/* u32: a container's init as the host sees it */
	T_ROOT_PATH,		/* host path of a container's root filesystem */
	T_BUNDLE,		/* host path of a container's OCI bundle */
	T_UID_MAP,		/* packed id map (idmap.h): container uid -> host uid */
	T_GID_MAP,		/* the same for gids */
	T_FILE,			/* nested REC_FILE, repeated */
	T_MOUNT,		/* nested REC_MOUNT, in a T_RECORDS list */
	T_CONTAINER,		/* nested REC_CONTAINER, in a T_RECORDS list */
	T_MOUNTER,		/* bool: answer from the mounter's table, not the parent's */
	T_CONTAINERS,		/* u32: containers holding this node's secrets */
	T_ADOPT,		/* bool: MNTR_ATTACH takes back a view attached earlier */
	T_VIEW_ID,		/* u64: unique mount id of a container's view */
	T_START_TIME,		/* u64: a process's start, clock ticks since boot */
	T_AUDIT_SINK,		/* u8: enum audit_sink, where audit records go */
	T_AUDIT_TEXT,		/* which audit sink, and why, for people */
	T_CLAIM,		/* a container's claim on its service, as given (claim.h) */
	T_CLAIM_DIGEST,		/* 32 bytes: the digest of a service's current claim */
	T_CLAIM_ISSUED,		/* i64: when that claim was issued, unix time */
	T_SEALED,		/* a message sealed between two parents (daemon/parent/peer_seal.c) */
	T_SEAL_PUB,		/* 32 bytes: a node's sealing public key (X25519), its parent's */
	T_JOIN_PROOF,		/* 32 bytes: HMAC of a join request under the token's secret */
	T_SEAL_KEY,		/* 32 bytes: the node's sealing secret key, in node.keys only */
	T_STATE_DIR,		/* the node's state directory */
	T_DISK_FREE,		/* u64: bytes free there */
	T_DISK_NEED,		/* u64: bytes it needs free to take writes */
	/*
	 * Paging of lists: in a request, the key (an id) of the last record
	 * of the page before, so the answer starts after it; in an answer,
	 * present when more records follow, the key to ask again with.
	 */
	T_CURSOR,
	T_SET_ASIDE,		/* RAFTP_START: move the raft files into this new subdirectory first */
	T_HEALTH,		/* "degraded: why" when a node cannot serve (status, heartbeats, node ls) */
	/*
	 * status --digest: a request asks for a digest of this replica's
	 * store (O(n), so only when asked); the answer carries it, keyed by
	 * the DEK (daemon/raft/store_digest.c), with the counts it covers, at
	 * the T_RAFT_INDEX of the same answer.
	 */
	T_DIGEST_WANTED,	/* bool, in CTL_STATUS and RAFTP_STATUS */
	T_STORE_DIGEST,		/* 32 bytes */
	T_STORE_SECRETS,	/* u64 */
	T_STORE_SERVICES,	/* u64 */
	T_STORE_NODES,		/* u64 */
	/*
	 * Disaster recovery (README "Recover from disaster", "Back up and
	 * restore"): a backup file's clear header and the key it is sealed
	 * with (lib/backup_file.h), what a written file holds, and a raft
	 * process told to become the only voter of its configuration.
	 */
	T_BACKUP_HDR,		/* BACKUP_HDR_BYTES */
	T_BACKUP_KEY,		/* 32 bytes */
	T_BYTES,		/* u64: bytes written */
	T_FORCE_NEW,		/* bool, RAFTP_START: raft_recover() as the only voter first */
	/*
	 * CA rotation and external CAs (README "Rotate the CA").  A trust
	 * bundle is one or more PEM root certificates; a chain is the PEM
	 * certificates a node presents after its leaf (none, or the one
	 * cross-signed intermediate).  Digests of certificates are SHA-256
	 * of their SubjectPublicKeyInfo DER (x509_cert_info's spki_sha256):
	 * a root and its cross-signed twin carry the same key, so the same
	 * digest names both.
	 */
	T_CA_NEXT,		/* PEM: the root a rotation moves to */
	T_CA_NEXT_KEY,		/* PKCS#8 DER of that root's key; absent when an external CA holds it */
	T_CA_CROSS,		/* PEM: the next root's key and subject, certified by the current root */
	T_CA_CHAIN,		/* PEM: what a node presents after its leaf (0 or 1 intermediate) */
	T_CA_PHASE,		/* u8: enum ca_phase */
	T_EXTCA_URL,		/* https URL of an external CA's cfssl API (no path: /api/v1/cfssl/sign is added) */
	T_EXTCA_CACERT,		/* PEM bundle the external CA's TLS server certificate must chain to */
	T_ISSUER_DIGEST,	/* 32 bytes: SPKI digest of the CA that issued a verified peer's leaf */
	T_TRUST_DIGEST,		/* 32 bytes: join_token_digest_pem() of the trust bundle a node holds */
	T_NODES_TOTAL,		/* u32: nodes a rotation waits for (up, not removed) */
	T_NODES_TRUSTING,	/* u32: of those, holding the trust bundle the phase wants */
	T_NODES_RENEWED,	/* u32: of those, with a certificate from the root the phase wants */
	T_TLS_STATUS,		/* "ready", "needs-rotation" or "unknown": a node's certificate against the CA */
	T_NEXT_EXTCA_URL,	/* T_EXTCA_URL of the root a rotation moves to */
	T_NEXT_EXTCA_CACERT,	/* T_EXTCA_CACERT of the root a rotation moves to */
};

/*
 * Where a CA rotation stands (the cluster record's phase; README "Rotate
 * the CA").  TRUST: every node is told to trust the next root beside the
 * current one, and the leader waits until every node that is up does.
 * RENEW: certificates are issued by the next root (with the cross-signed
 * intermediate when the current root's key is held), every node renews,
 * and the leader waits until every node that is up presents one.  Then
 * CMD_CA_ADVANCE to CA_PHASE_NONE makes the next root the only one and
 * rotates both join tokens; nodes drop the old root from their trust.
 */
enum ca_phase { CA_PHASE_NONE = 0, CA_PHASE_TRUST = 1, CA_PHASE_RENEW = 2 };

enum node_role { ROLE_MANAGER = 1, ROLE_WORKER = 2 };

/* Events the raft process reports unprompted (T_EVENT of RAFTP_EVENT). */
enum raft_event_kind {
	EV_APPLIED_CLUSTER = 1,	/* cluster record changed (KEK, expiry, tokens) */
	EV_LEADERSHIP,		/* the leader changed: where it is now, if known */
	EV_NODES,		/* membership changed: removed nodes, manager addresses */
	EV_ASSIGNMENTS,		/* secrets, services or node labels changed */
};

/* A reply has the request's type with this bit set; MSG_ERROR answers any. */
#define MSG_REPLY 0x8000
#define MSG_IS_REPLY(t) (((t) & MSG_REPLY) != 0)

enum msg_type {
	MSG_ERROR = 0x7fff,

	/* hushctl -> parent over the control socket */
	CTL_STATUS = 0x0101,
	CTL_INIT,
	CTL_JOIN_TOKEN,
	CTL_SECRET_CREATE,
	CTL_SECRET_LIST,
	CTL_SECRET_INSPECT,
	CTL_SECRET_RM,
	CTL_UPDATE,
	CTL_UNLOCK,
	CTL_UNLOCK_KEY,
	CTL_TEST_FAULT,		/* honoured only by test builds */
	CTL_JOIN,
	CTL_NODE_LIST,
	CTL_NODE_INSPECT,
	CTL_NODE_PROMOTE,
	CTL_NODE_DEMOTE,
	CTL_NODE_RM,
	CTL_LEAVE,
	CTL_SERVICE_CREATE,
	CTL_SERVICE_LIST,
	CTL_SERVICE_INSPECT,
	CTL_SERVICE_UPDATE,
	CTL_SERVICE_RM,
	CTL_SECRET_UPDATE,
	CTL_NODE_UPDATE,
	CTL_ASSIGNMENTS,	/* what this node holds: services placed on it */
	/*
	 * hush-oci-hook -> parent.  ATTACH (at createRuntime): deliver
	 * T_SERVICE_NAME's secrets into the container; the reply may say how many
	 * files (T_COUNT).  DETACH (at poststop): drop them.  Neither carries
	 * a T_REQ_ID: they change this node only, not the replicated store,
	 * and the container id already names the request.  The daemon makes
	 * both idempotent on T_CONTAINER_ID (an ATTACH repeated with the same
	 * pid answers as the first did, with another pid it is refused; a
	 * DETACH of an unknown id succeeds), so the hook may resend one whose
	 * outcome it does not know.  Paths and maps come from the bundle's
	 * config.json, which the hook cannot vouch for: the daemon checks
	 * them again (service_name_check, idmap_decode) and prefers what the
	 * kernel says about T_PID (/proc/PID/ns/mnt, /proc/PID/uid_map).
	 * An ATTACH carries a pidfd of T_PID (SCM_RIGHTS), taken by the hook
	 * as soon as it read the state, so that the process the secrets go to
	 * is the one the runtime named; and T_CLAIM, the proof that whoever
	 * started the container holds the service's claim (lib/claim.h).
	 */
	CTL_CONTAINER_ATTACH,
	CTL_CONTAINER_DETACH,
	/*
	 * hushctl -> parent: the containers this node holds secrets for, one
	 * REC_CONTAINER each (T_CONTAINER).  With T_MOUNTER the parent asks
	 * the mounter (MNTR_LIST) and answers with its REC_MOUNTs (T_MOUNT)
	 * instead: the mounter holds the mounts and the bytes, so its table,
	 * not the parent's, shows that a container was really let go.
	 */
	CTL_CONTAINER_LIST,
	/*
	 * hushctl -> parent: rebuild this manager's raft data from its peers
	 * (the old files kept, set aside); T_FORCE for a node that is not
	 * degraded.  The reply says where the old files went (T_STATUS_TEXT).
	 */
	CTL_NODE_REPAIR,
	/*
	 * hushctl -> parent: make this manager the only one of its cluster
	 * (`hushctl init --force-new-cluster`): its raft configuration
	 * becomes itself alone and every other manager is marked removed.
	 * T_FORCE: even while a quorum answers.  The reply names the node,
	 * the cluster and each manager removed (T_PEER_ID).
	 */
	CTL_FORCE_NEW_CLUSTER,
	/*
	 * hushctl -> parent, with the open file (SCM_RIGHTS): write a sealed
	 * backup of the store into it.  T_BACKUP_HDR and T_BACKUP_KEY when
	 * the operator gave a passphrase (hushctl derived the key); without
	 * them the key is derived from the cluster's unlock key.  T_FORCE:
	 * from this manager's copy without asking the leader (no quorum).
	 */
	CTL_BACKUP,
	/*
	 * hushctl -> parent, with the backup file open (SCM_RIGHTS) and the
	 * key that opens it: make this uninitialized node the only manager
	 * of the cluster the backup holds.
	 */
	CTL_RESTORE,
	/*
	 * hushctl -> parent (manager): the cluster's root certificate and,
	 * during a rotation, the next root, the phase and how many nodes are
	 * where it wants them (T_NODES_*); T_STATUS_TEXT says what holds it
	 * up (an external CA that does not answer, say).
	 */
	CTL_CA,
	/*
	 * hushctl -> parent (manager): start a CA rotation, to a root the
	 * daemon makes, or to T_CA_CERT (with T_CA_KEY, the key file's bytes
	 * as the operator gave them, PEM; without it, an external CA at
	 * T_EXTCA_URL holds the key).  A rotation already under way is
	 * replaced.  The reply carries the next root (T_CA_NEXT).
	 */
	CTL_CA_ROTATE,

	/* parent <-> pki */
	PKI_CA_CREATE = 0x0201,
	PKI_CA_LOAD,
	PKI_ISSUE,
	/*
	 * parent -> pki: make the next root (or check T_CA_CERT/T_CA_KEY as
	 * the operator supplied them; T_CA_CERT alone for an external CA's
	 * root) and cross-sign it with the current root's key when pki holds
	 * one.  Nothing changes in pki until the parent loads the rotation
	 * with PKI_CA_LOAD: the answer only carries it.
	 */
	PKI_CA_ROTATE,

	/* parent <-> raft */
	RAFTP_START = 0x0301,
	RAFTP_PROPOSE,
	RAFTP_QUERY,
	RAFTP_STATUS,
	RAFTP_EVENT,		/* raft -> parent, unsolicited */
	RAFTP_CONNECT,		/* raft -> parent: stream to a peer, please */
	RAFTP_INBOUND,		/* parent -> raft: an authenticated peer stream (fd) */
	RAFTP_DEMOTE,		/* parent -> raft (leader): this manager becomes a spare */
	RAFTP_BACKUP,		/* parent -> raft, with a file (fd): write a sealed backup into it */

	/*
	 * parent <-> net.  net is the only process that touches the network:
	 * it terminates mutual TLS and hands the parent either a plaintext
	 * stream (fd) with the peer's verified identity, or a peer request it
	 * has already framed and schema-checked.
	 */
	NET_START = 0x0701,	/* parent -> net: our cert, key, CA; start listening */
	NET_RELOAD,		/* parent -> net: renewed cert/key, removed nodes */
	NET_CONNECT,		/* parent -> net: mTLS stream to a manager, as an fd */
	NET_INBOUND,		/* net -> parent: an authenticated inbound stream (fd) */
	NET_JOIN,		/* parent -> net (joining node): run the join protocol */
	NET_JOIN_SERVE,		/* net -> parent (manager): a join request arrived */
	NET_RPC,		/* parent -> net: send a DSP_* request to a manager */
	NET_PEER_REQUEST,	/* net -> parent: a DSP_* request from a verified peer */
	/*
	 * parent -> net (manager): have the external CA at T_EXTCA_URL sign
	 * this CSR with this subject (cfssl's /api/v1/cfssl/sign), over TLS
	 * that must verify against T_EXTCA_CACERT.  The answer is what the
	 * CA returned; the parent still checks it (subject, key, chain).
	 */
	NET_EXTCA_SIGN,

	/*
	 * Frames on the wire between nodes, inside TLS.  hush-join/1 carries
	 * JOIN_*; hush-dispatch/1 carries DSP_* requests and their replies.
	 */
	JOIN_HELLO = 0x0801,	/* manager -> joiner: the root CA certificate */
	JOIN_REQUEST,		/* joiner -> manager: token, CSR, advertise address */
	DSP_FORWARD = 0x0901,	/* follower -> leader: propose this command */
	DSP_QUERY,		/* follower -> leader: answer this query */
	DSP_RENEW,		/* node -> manager: sign this CSR for me */
	DSP_HEARTBEAT,		/* node -> manager: I am alive */
	DSP_ASSIGNMENTS,	/* node -> manager: my services and secrets, when they change */
	DSP_REPAIR,		/* manager -> leader: make me a non-voter, my log is going */

	/* replicated commands, carried in T_COMMAND and in the raft log */
	CMD_CLUSTER_INIT = 0x0401,
	CMD_TOKEN_ROTATE,
	CMD_SECRET_CREATE,
	CMD_SECRET_RM,
	CMD_CLUSTER_UPDATE,
	CMD_NODE_ADD,
	CMD_NODE_UPDATE,
	CMD_NODE_REMOVE,
	CMD_SERVICE_CREATE,
	CMD_SERVICE_UPDATE,
	CMD_SERVICE_RM,
	CMD_SECRET_UPDATE,
	/*
	 * Disaster recovery.  FORCE_NEW_CLUSTER: every manager but T_NODE_ID
	 * is removed, and T_NODE_ID is added as a manager if the table lacks
	 * it (a restore).  STORE_LOAD: snapshot records (of snapshot version
	 * T_VERSION) from a backup, into a store that holds no cluster yet
	 * (T_BOOTSTRAP: the first such command) or is being loaded.
	 * BACKUP_MARK changes nothing: its index, once applied, is where a
	 * backup must start to hold every write acknowledged before it.
	 */
	CMD_FORCE_NEW_CLUSTER,
	CMD_STORE_LOAD,
	CMD_BACKUP_MARK,
	/*
	 * CA rotation.  CA_ROTATE starts one (or replaces the one under way):
	 * the next root, its key unless external, the cross-signed
	 * intermediate when there is one, phase TRUST.  CA_ADVANCE moves the
	 * rotation whose next root has SPKI digest T_DIGEST to T_CA_PHASE;
	 * to CA_PHASE_NONE it makes the next root current and carries the
	 * new token secrets.  An ADVANCE for another rotation changes nothing.
	 */
	CMD_CA_ROTATE,
	CMD_CA_ADVANCE,

	/* reads of the state machine, carried in T_QUERY */
	QRY_CLUSTER = 0x0501,
	QRY_SECRET_LIST,
	QRY_SECRET_GET,
	QRY_NODE_LIST,
	QRY_NODE_GET,
	QRY_SERVICE_LIST,
	QRY_SERVICE_GET,
	QRY_ASSIGNMENTS,	/* what one node must hold (store_assign.c) */

	/* records nested in other messages and in snapshots */
	REC_SECRET = 0x0601,	/* public metadata of a secret */
	SNAP_HEADER,
	SNAP_CLUSTER,
	SNAP_SECRET,		/* full secret incl. data, only inside a sealed snapshot */
	SNAP_DEDUP,
	REC_KEYFILE,		/* the node's key file, sealed by the KEK under autolock */
	REC_NODE,		/* a node as the store knows it */
	SNAP_NODE,
	/*
	 * A service.  Its grants are nested T_GRANT field lists: REC_GRANT in
	 * commands (the secret by name or id, as the operator gave it), and
	 * REC_SERVICE_GRANT in the store's answers and snapshots (the secret by
	 * id; answers add the secret's current name).
	 */
	REC_SERVICE,
	SNAP_SERVICE,
	REC_GRANT,
	REC_SERVICE_GRANT,
	REC_SECRET_DATA,	/* a secret's value for a node it is placed on */
	REC_CONTAINER,		/* a container the parent delivered secrets into */

	/*
	 * parent <-> mounter.  The mounter builds each container's
	 * /run/secrets tmpfs and drops it again (DESIGN.md §6).  MNTR_, not
	 * MNT_: <sys/mount.h> has MNT_DETACH.
	 */
	MNTR_ATTACH = 0x0b01,	/* parent -> mounter: new tmpfs in a container,
				 * or (T_ADOPT) the one a lost mounter made */
	MNTR_PUBLISH,		/* parent -> mounter: replace a container's files */
	MNTR_DETACH,		/* parent -> mounter: forget a container */
	MNTR_LIST,		/* parent -> mounter: what it holds */
	MNTR_EVENT,		/* mounter -> parent, unsolicited: a container ended */
	REC_FILE,		/* one file of a container's set */
	REC_MOUNT,		/* one container the mounter holds */

	/*
	 * Inside a backup file's sealed chunks (lib/backup_file.h): the
	 * manifest first, then the cluster's data key, then the store's
	 * snapshot records (SNAP_*), then BACKUP_END with their count.
	 */
	BACKUP_MANIFEST = 0x0c01,
	BACKUP_KEYS,
	BACKUP_END,
};

#define ALPN_JOIN	"hush-join/1"
#define ALPN_RAFT	"hush-raft/1"
#define ALPN_DISPATCH	"hush-dispatch/1"


/* The schema for a message type (replies included); NULL if unknown. */
const struct wire_msg_spec *msg_spec(uint16_t type);
const char *msg_type_name(uint16_t type);

/*
 * Decode + check allowed type + validate: the one entry point for untrusted
 * bytes.  `allowed` lists the types this channel accepts (0-terminated).
 */
int msg_parse(const uint8_t *buf, size_t len, size_t max, const uint16_t *allowed,
    struct wire_msg *m, char *why, size_t whylen);
/* Same for a nested field list validated against a record type's schema. */
int msg_parse_record(const uint8_t *buf, size_t len, uint16_t rec_type,
    struct wire_msg *m, char *why, size_t whylen);

/*
 * Walk the record list in T_RECORDS of m: every entry must carry item_tag
 * and parse as rec_type; fn sees each record both raw and parsed.  Stops at
 * the first error (its own or fn's) and returns it.
 */
typedef int (*msg_record_fn)(void *arg, const uint8_t *raw, size_t len,
    const struct wire_msg *rec);
int msg_records_each(const struct wire_msg *m, uint16_t item_tag, uint16_t rec_type,
    msg_record_fn fn, void *arg);

/*
 * Helpers for the common reply shapes.  msg_error_reply() cuts a detail
 * to MSG_ERRMSG_MAX bytes; it fails only when memory runs out, and then
 * e is in error too (its wire_enc_finish() says so).
 */
#define MSG_ERRMSG_MAX 1024
__attribute__((warn_unused_result))
int msg_error_reply(struct wire_enc *e, uint32_t request_id, int code, const char *detail);
/* If m is MSG_ERROR, return its (negative) code and copy the detail. */
int msg_reply_status(const struct wire_msg *m, char *detail, size_t detaillen);

#endif
