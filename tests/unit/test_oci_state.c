/*
 * hush-oci-hook's parsers: the OCI state on stdin and the bundle's
 * config.json, as runc, crun and podman write them, and every way they
 * can be wrong.  Each refusal must name the field it is about.
 * Unit tests link only libhush.a, so the parsers are compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../tools/hush-oci-hook/oci_config.c"
#include "../../tools/hush-oci-hook/oci_json.c"
#include "../../tools/hush-oci-hook/oci_state.c"

static struct oci_state st;
static struct oci_config cfg;

#define RUNC_ID	"4bd0d2e3a7c85d4a0c3e1f6d3a1d9c37e2ab8bd6a7f4e6b0a9f2c1d3e4f5a6b7"

static void
printable(const char *why)
{
	size_t i;

	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
	assert_true(i > 0);
}

static void
state_ok(const char *json, enum oci_stage stage)
{
	char why[512];

	snprintf(why, sizeof(why), "unset");
	if (oci_state_parse(json, strlen(json), stage, &st, why,
	    sizeof(why)) != 0)
		fail_msg("refused: %s\n%s", why, json);
	assert_string_equal(why, "");
}

/* Refused with code r and a message starting with field. */
static void
state_bad(const char *json, size_t len, enum oci_stage stage, int r,
    const char *field)
{
	char why[512];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(oci_state_parse(json, len, stage, &st, why,
	    sizeof(why)), r);
	printable(why);
	if (strncmp(why, field, strlen(field)) != 0)
		fail_msg("message '%s' does not start with '%s'", why, field);
	/* Nothing half-parsed is left behind. */
	assert_string_equal(st.id, "");
	assert_int_equal(st.pid, 0);
	assert_false(st.ann.has_service);
	assert_false(st.ann.has_claim);
}

static void
state_bad_str(const char *json, int r, const char *field)
{
	state_bad(json, strlen(json), OCI_CREATE_RUNTIME, r, field);
}

static void
config_ok(const char *json, const char *bundle, enum oci_stage stage)
{
	char why[512];

	snprintf(why, sizeof(why), "unset");
	if (oci_config_parse(json, strlen(json), bundle, stage, &cfg, why,
	    sizeof(why)) != 0)
		fail_msg("refused: %s\n%s", why, json);
	assert_string_equal(why, "");
}

static void
config_bad(const char *json, const char *bundle, int r, const char *field)
{
	char why[512];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(oci_config_parse(json, strlen(json), bundle,
	    OCI_CREATE_RUNTIME, &cfg, why, sizeof(why)), r);
	printable(why);
	if (strncmp(why, field, strlen(field)) != 0)
		fail_msg("message '%s' does not start with '%s'", why, field);
	assert_string_equal(cfg.root, "");
	assert_false(cfg.userns);
	assert_false(cfg.ann.has_claim);
	assert_false(cfg.has_env_claim);
}

/* ---- states ------------------------------------------------------------- */

static void
test_state_runc(void **state)
{
	(void)state;
	/* runc 1.1: annotations copied from config.json; no "created". */
	state_ok("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"" RUNC_ID "\","
	    "\"status\":\"creating\",\"pid\":4242,\"bundle\":\"/run/containerd/"
	    "io.containerd.runtime.v2.task/default/" RUNC_ID "\","
	    "\"annotations\":{\"io.hush.service\":\"web\"}}",
	    OCI_CREATE_RUNTIME);
	assert_string_equal(st.id, RUNC_ID);
	assert_int_equal(st.pid, 4242);
	assert_string_equal(st.bundle, "/run/containerd/io.containerd.runtime."
	    "v2.task/default/" RUNC_ID);
	assert_true(st.ann.present);
	assert_true(st.ann.has_service);
	assert_string_equal(st.ann.service, "web");
}

static void
test_state_crun(void **state)
{
	(void)state;
	/* crun: pretty-printed, extra members, other annotations. */
	state_ok("{\n  \"ociVersion\": \"1.0.0\",\n  \"id\": \"db-1\",\n"
	    "  \"pid\": 1234,\n  \"status\": \"created\",\n"
	    "  \"bundle\": \"/var/lib/crun/bundles/db-1\",\n"
	    "  \"rootfs\": \"/var/lib/crun/bundles/db-1/rootfs\",\n"
	    "  \"created\": \"2026-11-23T10:00:00.000000000Z\",\n"
	    "  \"annotations\": {\n    \"org.opencontainers.image.title\": "
	    "\"db\",\n    \"io.hush.service\": \"db-pw.v2\"\n  }\n}\n",
	    OCI_CREATE_RUNTIME);
	assert_string_equal(st.id, "db-1");
	assert_int_equal(st.pid, 1234);
	assert_string_equal(st.ann.service, "db-pw.v2");
}

static void
test_state_podman(void **state)
{
	(void)state;
	/* podman's libpod annotations alongside ours. */
	state_ok("{\"ociVersion\":\"1.1.0\",\"id\":\"d3adb33f0123\","
	    "\"status\":\"creating\",\"pid\":98765,\"bundle\":\"/var/lib/"
	    "containers/storage/overlay-containers/d3adb33f0123/userdata\","
	    "\"annotations\":{\"io.container.manager\":\"libpod\","
	    "\"io.podman.annotations.autoremove\":\"FALSE\","
	    "\"org.opencontainers.image.stopSignal\":\"15\","
	    "\"io.hush.service\":\"api\"}}", OCI_CREATE_RUNTIME);
	assert_string_equal(st.ann.service, "api");
	assert_int_equal(st.pid, 98765);
}

static void
test_state_no_service(void **state)
{
	(void)state;
	/* Annotations, but not ours: the hook lets the container be. */
	state_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"creating\","
	    "\"pid\":7,\"bundle\":\"/b\",\"annotations\":{\"a\":\"b\"}}",
	    OCI_CREATE_RUNTIME);
	assert_true(st.ann.present);
	assert_false(st.ann.has_service);
	/* runc leaves out empty annotations: present says to ask config.json. */
	state_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"creating\","
	    "\"pid\":7,\"bundle\":\"/b\"}", OCI_CREATE_RUNTIME);
	assert_false(st.ann.present);
	assert_false(st.ann.has_service);
}

static void
test_state_poststop(void **state)
{
	static const char neg[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c\","
	    "\"status\":\"stopped\",\"pid\":-1,\"bundle\":\"/b\"}";

	(void)state;
	state_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"stopped\","
	    "\"bundle\":\"/b\",\"annotations\":{\"io.hush.service\":\"web\"}}",
	    OCI_POSTSTOP);
	assert_int_equal(st.pid, 0);
	state_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"stopped\","
	    "\"pid\":0,\"bundle\":\"/b\"}", OCI_POSTSTOP);
	assert_int_equal(st.pid, 0);
	state_ok("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"stopped\","
	    "\"pid\":99,\"bundle\":\"/b\"}", OCI_POSTSTOP);
	assert_int_equal(st.pid, 99);
	state_bad(neg, strlen(neg), OCI_POSTSTOP, HUSH_E_RANGE,
	    "pid: -1 is not a process id (expected 0 to 4194304)");
}

static void
test_state_not_json(void **state)
{
	static const char nul[] = "{\"id\":\"a\0b\"}";

	(void)state;
	state_bad_str("", HUSH_E_FORMAT, "empty");
	state_bad_str("hello", HUSH_E_FORMAT, "not valid JSON");
	state_bad_str("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\"", HUSH_E_FORMAT,
	    "not valid JSON");
	state_bad_str("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",", HUSH_E_FORMAT,
	    "not valid JSON");
	state_bad_str("{} {}", HUSH_E_FORMAT, "not valid JSON");
	state_bad_str("{\"id\":\"\\u0000\"}", HUSH_E_FORMAT, "not valid JSON");
	state_bad(nul, sizeof(nul) - 1, OCI_CREATE_RUNTIME, HUSH_E_FORMAT,
	    "not valid JSON");
	state_bad_str("{\"id\":\"\xff\"}", HUSH_E_FORMAT, "not valid JSON");
	state_bad_str("[]", HUSH_E_FORMAT, "must be a JSON object, not an array");
	/* Two pids: runtime and hook might each believe another one. */
	state_bad_str("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"x\","
	    "\"pid\":1,\"pid\":2,\"bundle\":\"/b\"}", HUSH_E_FORMAT,
	    "not valid JSON: duplicate object key");
}

#define BASE(id, pid, bundle, ann) \
	"{\"ociVersion\":\"1.0.2\",\"status\":\"creating\",\"id\":" id \
	",\"pid\":" pid ",\"bundle\":" bundle ann "}"
#define SVC ",\"annotations\":{\"io.hush.service\":\"web\"}"

static void
test_state_wrong_types(void **state)
{
	(void)state;
	state_bad_str(BASE("5", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: must be a string, not an integer");
	state_bad_str(BASE("\"c\"", "\"12\"", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "pid: must be an integer, not a string");
	state_bad_str(BASE("\"c\"", "1.5", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "pid: must be an integer, not a fraction");
	state_bad_str(BASE("\"c\"", "1", "null", SVC), HUSH_E_FORMAT,
	    "bundle: must be a string, not null");
	state_bad_str(BASE("\"c\"", "1", "\"/b\"", ",\"annotations\":[]"),
	    HUSH_E_FORMAT, "annotations: must be an object, not an array");
	state_bad_str(BASE("\"c\"", "1", "\"/b\"",
	    ",\"annotations\":{\"io.hush.service\":true}"), HUSH_E_FORMAT,
	    "annotations: the value of 'io.hush.service' must be a string, "
	    "not a boolean");
	/* Any annotation, not just ours: the spec says strings. */
	state_bad_str(BASE("\"c\"", "1", "\"/b\"",
	    ",\"annotations\":{\"x\":{},\"io.hush.service\":\"web\"}"),
	    HUSH_E_FORMAT, "annotations: the value of 'x' must be a string, "
	    "not an object");
	state_bad_str("{\"id\":\"c\",\"status\":\"x\",\"pid\":1,\"bundle\":\"/b\"}",
	    HUSH_E_FORMAT, "ociVersion: missing");
	state_bad_str("{\"ociVersion\":1,\"id\":\"c\",\"status\":\"x\","
	    "\"pid\":1,\"bundle\":\"/b\"}", HUSH_E_FORMAT,
	    "ociVersion: must be a string");
	state_bad_str("{\"ociVersion\":\"1\",\"id\":\"c\",\"pid\":1,"
	    "\"bundle\":\"/b\"}", HUSH_E_FORMAT, "status: missing");
	state_bad_str("{\"ociVersion\":\"1\",\"status\":\"x\",\"pid\":1,"
	    "\"bundle\":\"/b\"}", HUSH_E_FORMAT, "id: missing");
	state_bad_str("{\"ociVersion\":\"1\",\"status\":\"x\",\"id\":\"c\","
	    "\"pid\":1}", HUSH_E_FORMAT, "bundle: missing");
}

static void
test_state_id(void **state)
{
	char json[2048], id[HUSH_CONTAINER_ID_MAX + 2];

	(void)state;
	memset(id, 'a', sizeof(id));
	id[HUSH_CONTAINER_ID_MAX] = '\0';
	snprintf(json, sizeof(json), BASE("\"%s\"", "1", "\"/b\"", SVC), id);
	state_ok(json, OCI_CREATE_RUNTIME);
	assert_int_equal(strlen(st.id), HUSH_CONTAINER_ID_MAX);

	id[HUSH_CONTAINER_ID_MAX] = 'a';
	id[HUSH_CONTAINER_ID_MAX + 1] = '\0';
	snprintf(json, sizeof(json), BASE("\"%s\"", "1", "\"/b\"", SVC), id);
	state_bad_str(json, HUSH_E_TOOBIG, "id: is longer than 1024 bytes");

	state_bad_str(BASE("\"\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: is empty");
	state_bad_str(BASE("\"../etc\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: contains '/'");
	state_bad_str(BASE("\"a/b\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: contains '/'");
	state_bad_str(BASE("\"..\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: '..' is not a usable name");
	state_bad_str(BASE("\".\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: '.' is not a usable name");
	state_bad_str(BASE("\"a b\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: byte 1 (0x20) is not printable ASCII");
	state_bad_str(BASE("\"a\\nb\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: byte 1 (0x0a) is not printable ASCII");
	state_bad_str(BASE("\"caf\xc3\xa9\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: byte 3 (0xc3) is not printable ASCII");
	state_bad_str(BASE("\"\\u001b[2J\"", "1", "\"/b\"", SVC), HUSH_E_FORMAT,
	    "id: byte 0 (0x1b)");
	/* "..." and ".a" are plain names. */
	state_ok(BASE("\"...\"", "1", "\"/b\"", SVC), OCI_CREATE_RUNTIME);
	state_ok(BASE("\".a\"", "1", "\"/b\"", SVC), OCI_CREATE_RUNTIME);
}

static void
test_state_pid(void **state)
{
	(void)state;
	state_bad_str(BASE("\"c\"", "-1", "\"/b\"", SVC), HUSH_E_RANGE,
	    "pid: -1 is not a process id (expected 1 to 4194304)");
	state_bad_str(BASE("\"c\"", "0", "\"/b\"", SVC), HUSH_E_RANGE,
	    "pid: 0 is not a process id");
	state_bad_str(BASE("\"c\"", "4194305", "\"/b\"", SVC), HUSH_E_RANGE,
	    "pid: 4194305 is not a process id");
	state_bad_str(BASE("\"c\"", "-9223372036854775808", "\"/b\"", SVC),
	    HUSH_E_RANGE, "pid: -9223372036854775808 is not a process id");
	/* Beyond 64 bits jansson itself refuses the number. */
	state_bad_str(BASE("\"c\"", "99999999999999999999", "\"/b\"", SVC),
	    HUSH_E_FORMAT, "not valid JSON");
	state_ok(BASE("\"c\"", "4194304", "\"/b\"", SVC), OCI_CREATE_RUNTIME);
	state_ok(BASE("\"c\"", "1", "\"/b\"", SVC), OCI_CREATE_RUNTIME);
	state_bad_str("{\"ociVersion\":\"1\",\"status\":\"x\",\"id\":\"c\","
	    "\"bundle\":\"/b\"}", HUSH_E_FORMAT, "pid: missing");
}

static void
test_state_bundle(void **state)
{
	char json[8192], path[HUSH_PATH_MAX + 2];

	(void)state;
	state_bad_str(BASE("\"c\"", "1", "\"relative/b\"", SVC), HUSH_E_FORMAT,
	    "bundle: 'relative/b' is not an absolute path");
	state_bad_str(BASE("\"c\"", "1", "\"./b\"", SVC), HUSH_E_FORMAT,
	    "bundle: './b' is not an absolute path");
	state_bad_str(BASE("\"c\"", "1", "\"\"", SVC), HUSH_E_FORMAT,
	    "bundle: is empty");
	state_bad_str(BASE("\"c\"", "1", "\"/b\\nx\"", SVC), HUSH_E_FORMAT,
	    "bundle: contains a control character");
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[HUSH_PATH_MAX] = '\0';
	snprintf(json, sizeof(json), BASE("\"c\"", "1", "\"%s\"", SVC), path);
	state_ok(json, OCI_CREATE_RUNTIME);
	path[HUSH_PATH_MAX] = 'p';
	path[HUSH_PATH_MAX + 1] = '\0';
	snprintf(json, sizeof(json), BASE("\"c\"", "1", "\"%s\"", SVC), path);
	state_bad_str(json, HUSH_E_TOOBIG, "bundle: is longer than 4095 bytes");
}

static void
test_state_service_names(void **state)
{
	char json[512];
	static const char *const bad[] = {
		"", "web.", "-web", "we/b", "we b", "web\\n", "caf\\u00e9",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), BASE("\"c\"", "1", "\"/b\"",
		    ",\"annotations\":{\"io.hush.service\":\"%s\"}"), bad[i]);
		state_bad_str(json, i == 7 ? HUSH_E_TOOBIG : HUSH_E_FORMAT,
		    "annotations.io.hush.service: service name");
	}
	snprintf(json, sizeof(json), BASE("\"c\"", "1", "\"/b\"",
	    ",\"annotations\":{\"io.hush.service\":\"%s\"}"), bad[7] + 1);
	state_ok(json, OCI_CREATE_RUNTIME);
	assert_int_equal(strlen(st.ann.service), SERVICE_NAME_MAX);
}

/* ---- config.json -------------------------------------------------------- */

#define USERNS \
	",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":100000," \
	"\"size\":65536}],\"gidMappings\":[{\"containerID\":0," \
	"\"hostID\":200000,\"size\":1000},{\"containerID\":1000," \
	"\"hostID\":1000,\"size\":1}]}"

static void
test_config_runc(void **state)
{
	uint32_t host;

	(void)state;
	/* runc spec's default, with a user namespace. */
	config_ok("{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"sh\"]},"
	    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	    "\"annotations\":{\"io.hush.service\":\"web\"}" USERNS "}",
	    "/run/b", OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.root, "/run/b/rootfs");
	assert_string_equal(cfg.ann.service, "web");
	assert_true(cfg.userns);
	assert_int_equal(cfg.uid.n, 1);
	assert_int_equal(cfg.gid.n, 2);
	assert_int_equal(idmap_to_host(&cfg.uid, 0, &host), 0);
	assert_int_equal(host, 100000);
	assert_int_equal(idmap_to_host(&cfg.gid, 1000, &host), 0);
	assert_int_equal(host, 1000);
	assert_int_equal(idmap_to_host(&cfg.gid, 1001, &host), HUSH_E_NOTFOUND);
}

static void
test_config_crun_podman(void **state)
{
	(void)state;
	/* crun: relative with dots and slashes; no linux maps. */
	config_ok("{\"root\":{\"path\":\"./rootfs//\"},\"linux\":{"
	    "\"namespaces\":[{\"type\":\"mount\"}]}}", "/var/lib/crun/b",
	    OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.root, "/var/lib/crun/b/rootfs");
	assert_false(cfg.userns);
	assert_false(cfg.ann.present);
	/* podman: an absolute overlay path outside the bundle. */
	config_ok("{\"root\":{\"path\":\"/var/lib/containers/storage/overlay/"
	    "0123abcd/merged\"},\"annotations\":{\"io.container.manager\":"
	    "\"libpod\",\"io.hush.service\":\"api\"}}",
	    "/var/lib/containers/storage/overlay-containers/d3ad/userdata",
	    OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.root,
	    "/var/lib/containers/storage/overlay/0123abcd/merged");
	assert_string_equal(cfg.ann.service, "api");
	/* Empty arrays are no mapping at all. */
	config_ok("{\"root\":{\"path\":\"r\"},\"linux\":{\"uidMappings\":[],"
	    "\"gidMappings\":[]}}", "/b", OCI_CREATE_RUNTIME);
	assert_false(cfg.userns);
}

static void
test_config_poststop(void **state)
{
	(void)state;
	/* After the container is gone, only the annotations are read. */
	config_ok("{\"annotations\":{\"io.hush.service\":\"web\"},"
	    "\"root\":{\"path\":\"/\"},\"linux\":7}", "/b", OCI_POSTSTOP);
	assert_string_equal(cfg.ann.service, "web");
	assert_string_equal(cfg.root, "");
}

static void
root_is(const char *bundle, const char *path, const char *want)
{
	char out[HUSH_PATH_MAX + 1], why[256];

	if (oci_root_resolve(bundle, path, out, why, sizeof(why)) != 0)
		fail_msg("%s + %s refused: %s", bundle, path, why);
	assert_string_equal(out, want);
}

static void
root_bad(const char *bundle, const char *path, int r, const char *msg)
{
	char out[HUSH_PATH_MAX + 1], why[256];

	assert_int_equal(oci_root_resolve(bundle, path, out, why, sizeof(why)),
	    r);
	assert_string_equal(why, msg);
	assert_string_equal(out, "");
}

/*
 * root.path is resolved against the bundle and normalised lexically;
 * ".." may leave the bundle (an absolute path could name the same place)
 * but not climb above "/", and "/" itself is refused.
 */
static void
test_config_root_path(void **state)
{
	char bundle[HUSH_PATH_MAX + 1], path[HUSH_PATH_MAX + 1], want[8200];

	(void)state;
	root_is("/run/b", "rootfs", "/run/b/rootfs");
	root_is("/run/b/", "./rootfs/", "/run/b/rootfs");
	root_is("/run//b", "a/./b/../c", "/run/b/a/c");
	root_is("/run/b", "../rootfs", "/run/rootfs");
	root_is("/run/b", "../../etc", "/etc");
	root_is("/run/b", "/abs//x/./y/..", "/abs/x");
	root_is("/run/b", "...", "/run/b/...");
	root_is("/run/b", "..a", "/run/b/..a");
	root_bad("/run/b", "../../../etc", HUSH_E_FORMAT,
	    "root.path: '..' leads above /");
	root_bad("/run/b", "/..", HUSH_E_FORMAT, "root.path: '..' leads above /");
	root_bad("/run/b", "../..", HUSH_E_FORMAT,
	    "root.path: resolves to / (the host's root directory)");
	root_bad("/run/b", "/", HUSH_E_FORMAT,
	    "root.path: resolves to / (the host's root directory)");
	root_bad("/run/b", "/a/../.", HUSH_E_FORMAT,
	    "root.path: resolves to / (the host's root directory)");
	root_bad("/run/b", "", HUSH_E_FORMAT, "root.path: is empty");

	/* Long inputs that shrink are fine; the result is what is bounded. */
	memset(bundle, 'b', sizeof(bundle));
	bundle[0] = '/';
	bundle[HUSH_PATH_MAX] = '\0';
	root_is(bundle, "..//x", "/x");
	memset(path, 'p', sizeof(path));
	path[HUSH_PATH_MAX] = '\0';
	root_bad(bundle, path, HUSH_E_TOOBIG,
	    "root.path: is longer than 4095 bytes once resolved");
	bundle[10] = '\0';
	path[HUSH_PATH_MAX - 11] = '\0';
	snprintf(want, sizeof(want), "%s/%s", bundle, path);
	assert_int_equal(strlen(want), HUSH_PATH_MAX);
	root_is(bundle, path, want);

	/* The same through config.json, with the field named. */
	config_bad("{\"root\":{\"path\":\"../../../etc\"}}", "/run/b",
	    HUSH_E_FORMAT, "root.path: '..' leads above /");
	config_ok("{\"root\":{\"path\":\"../../etc\"}}", "/run/b",
	    OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.root, "/etc");
	config_bad("{\"root\":{\"path\":\"\"}}", "/b", HUSH_E_FORMAT,
	    "root.path: is empty");
	config_bad("{\"root\":{\"path\":5}}", "/b", HUSH_E_FORMAT,
	    "root.path: must be a string, not an integer");
	config_bad("{\"root\":{\"path\":\"r\\u0007\"}}", "/b", HUSH_E_FORMAT,
	    "root.path: contains a control character");
	config_bad("{\"root\":{}}", "/b", HUSH_E_FORMAT, "root.path: missing");
	config_bad("{\"root\":\"rootfs\"}", "/b", HUSH_E_FORMAT,
	    "root: must be an object, not a string");
	config_bad("{}", "/b", HUSH_E_FORMAT, "root: missing");
}

static void
test_config_annotations(void **state)
{
	(void)state;
	config_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"a\":1}}", "/b",
	    HUSH_E_FORMAT, "annotations: the value of 'a' must be a string, "
	    "not an integer");
	config_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{"
	    "\"io.hush.service\":\"../x\"}}", "/b", HUSH_E_FORMAT,
	    "annotations.io.hush.service: service name contains '/'");
	/* A long, unprintable key is quoted short and safe. */
	config_bad("{\"root\":{\"path\":\"r\"},\"annotations\":{\"\\u001b[31m"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\":null}}", "/b", HUSH_E_FORMAT, "annotations: the value of "
	    "'?[31mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' must be a "
	    "string, not null");
}

#define MAPCFG(uid, gid) \
	"{\"root\":{\"path\":\"r\"},\"linux\":{\"uidMappings\":" uid \
	",\"gidMappings\":" gid "}}"
#define ONE "[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"

static void
test_config_mappings(void **state)
{
	char *json, *p;
	size_t i, cap = 64 * (IDMAP_MAX + 1) + 256;

	(void)state;
	config_bad(MAPCFG(ONE, "[]"), "/b", HUSH_E_FORMAT,
	    "linux.gidMappings: missing while linux.uidMappings is set");
	config_bad("{\"root\":{\"path\":\"r\"},\"linux\":{\"gidMappings\":" ONE
	    "}}", "/b", HUSH_E_FORMAT,
	    "linux.uidMappings: missing while linux.gidMappings is set");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":100000,\"size\":10},"
	    "{\"containerID\":5,\"hostID\":200000,\"size\":10}]", ONE), "/b",
	    HUSH_E_EXISTS, "linux.uidMappings[1]: container ids 5-14 overlap "
	    "entry 0");
	config_bad(MAPCFG(ONE, "[{\"containerID\":0,\"hostID\":100000,"
	    "\"size\":10},{\"containerID\":10,\"hostID\":100009,\"size\":1}]"),
	    "/b", HUSH_E_EXISTS, "linux.gidMappings[1]: host ids "
	    "100009-100009 overlap entry 0");
	config_bad(MAPCFG("[{\"containerID\":4294967295,\"hostID\":1,"
	    "\"size\":1}]", ONE), "/b", HUSH_E_RANGE,
	    "linux.uidMappings[0]: container ids 4294967295-4294967295 run past");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":4294967290,"
	    "\"size\":10}]", ONE), "/b", HUSH_E_RANGE,
	    "linux.uidMappings[0]: host ids 4294967290-4294967299 run past");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":1,\"size\":0}]", ONE),
	    "/b", HUSH_E_RANGE, "linux.uidMappings[0]: maps no ids");
	config_bad(MAPCFG("[{\"containerID\":-1,\"hostID\":1,\"size\":1}]",
	    ONE), "/b", HUSH_E_RANGE, "linux.uidMappings[0].containerID: -1 is "
	    "out of range (0 to 4294967295)");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":4294967296,"
	    "\"size\":1}]", ONE), "/b", HUSH_E_RANGE,
	    "linux.uidMappings[0].hostID: 4294967296 is out of range");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":1,\"size\":\"1\"}]",
	    ONE), "/b", HUSH_E_FORMAT, "linux.uidMappings[0].size: must be an "
	    "integer, not a string");
	config_bad(MAPCFG("[{\"containerID\":0,\"hostID\":1}]", ONE), "/b",
	    HUSH_E_FORMAT, "linux.uidMappings[0].size: missing");
	config_bad(MAPCFG("[7]", ONE), "/b", HUSH_E_FORMAT,
	    "linux.uidMappings[0]: must be an object, not an integer");
	config_bad(MAPCFG("{}", ONE), "/b", HUSH_E_FORMAT,
	    "linux.uidMappings: must be an array, not an object");
	config_bad("{\"root\":{\"path\":\"r\"},\"linux\":[]}", "/b",
	    HUSH_E_FORMAT, "linux: must be an object, not an array");

	/* 340 entries are the kernel's limit; 341 are too many. */
	assert_non_null(json = malloc(cap));
	p = json + sprintf(json, "{\"root\":{\"path\":\"r\"},\"linux\":{"
	    "\"uidMappings\":[");
	for (i = 0; i < IDMAP_MAX; i++)
		p += sprintf(p, "%s{\"containerID\":%zu,\"hostID\":%zu,"
		    "\"size\":1}", i == 0 ? "" : ",", i, 100000 + i);
	sprintf(p, "],\"gidMappings\":" ONE "}}");
	config_ok(json, "/b", OCI_CREATE_RUNTIME);
	assert_int_equal(cfg.uid.n, IDMAP_MAX);
	sprintf(p, ",{\"containerID\":%d,\"hostID\":1,\"size\":1}],"
	    "\"gidMappings\":" ONE "}}", IDMAP_MAX);
	config_bad(json, "/b", HUSH_E_TOOBIG, "linux.uidMappings: 341 entries, "
	    "more than the kernel's limit of 340");
	free(json);
}

/* ---- claims ------------------------------------------------------------- */

/* As `hushctl service claim` prints them: 86 bytes. */
#define CLAIM_A	"HUSHCLM-1-0123456789abcdefghijklmno-" \
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn"
#define CLAIM_B	"HUSHCLM-1-0123456789abcdefghijklmno-" \
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmz"
#define STATE_ANN(ann) \
	"{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"creating\"," \
	"\"pid\":7,\"bundle\":\"/b\",\"annotations\":{" ann "}}"
#define SVC_CLAIM(v) \
	"\"io.hush.service\":\"web\",\"io.hush.claim\":\"" v "\""
#define CFG(rest)	"{\"root\":{\"path\":\"r\"}" rest "}"
#define ENV(list)	",\"process\":{\"args\":[\"sh\"],\"env\":[" list "]}"

/*
 * No run of 6 bytes of claim is in why: a message may say where a claim
 * is wrong, never what it says.
 */
static void
no_claim_in(const char *why, const char *claim)
{
	char run[7];
	size_t i, n = strlen(claim);

	for (i = 0; i + 6 <= n; i++) {
		memcpy(run, claim + i, 6);
		run[6] = '\0';
		if (strstr(why, run) != NULL)
			fail_msg("message '%s' quotes the claim ('%s')", why, run);
	}
}

static void
state_claim_bad(const char *json, int r, const char *msg, const char *claim)
{
	char why[512];

	assert_int_equal(oci_state_parse(json, strlen(json), OCI_CREATE_RUNTIME,
	    &st, why, sizeof(why)), r);
	assert_string_equal(why, msg);
	no_claim_in(why, claim);
	assert_false(st.ann.has_claim);
	assert_string_equal(st.ann.claim, "");
}

static void
config_claim_bad(const char *json, int r, const char *msg, const char *claim)
{
	char why[512];

	assert_int_equal(oci_config_parse(json, strlen(json), "/b",
	    OCI_CREATE_RUNTIME, &cfg, why, sizeof(why)), r);
	assert_string_equal(why, msg);
	no_claim_in(why, claim);
	assert_false(cfg.has_env_claim);
	assert_string_equal(cfg.env_claim, "");
}

static void
test_claim_state_annotation(void **state)
{
	(void)state;
	state_ok(STATE_ANN(SVC_CLAIM(CLAIM_A)), OCI_CREATE_RUNTIME);
	assert_true(st.ann.has_service);
	assert_true(st.ann.has_claim);
	assert_string_equal(st.ann.claim, CLAIM_A);
	/* `hushctl service claim | ...` leaves a newline: one is dropped */
	state_ok(STATE_ANN(SVC_CLAIM(CLAIM_A "\\n")), OCI_CREATE_RUNTIME);
	assert_string_equal(st.ann.claim, CLAIM_A);
	/* Poststop proves nothing: the claim is not even read. */
	state_ok(STATE_ANN(SVC_CLAIM(CLAIM_A)), OCI_POSTSTOP);
	assert_true(st.ann.has_service);
	assert_false(st.ann.has_claim);
	assert_string_equal(st.ann.claim, "");
	/* A service without a claim still goes to hushd, which says why not. */
	state_ok(STATE_ANN("\"io.hush.service\":\"web\""), OCI_CREATE_RUNTIME);
	assert_true(st.ann.has_service);
	assert_false(st.ann.has_claim);
	/* Without a service the container is not hush's, whatever it claims. */
	state_ok(STATE_ANN("\"io.hush.claim\":\"" CLAIM_A "\""),
	    OCI_CREATE_RUNTIME);
	assert_false(st.ann.has_service);
	assert_false(st.ann.has_claim);
	state_ok(STATE_ANN("\"io.hush.claim\":\"not a claim\""),
	    OCI_CREATE_RUNTIME);
	assert_false(st.ann.has_claim);
	/* Like any annotation, a string. */
	state_bad_str(STATE_ANN("\"io.hush.service\":\"web\","
	    "\"io.hush.claim\":86"), HUSH_E_FORMAT, "annotations: the value of "
	    "'io.hush.claim' must be a string, not an integer");
}

static void
test_claim_config_annotation(void **state)
{
	(void)state;
	config_ok(CFG(",\"annotations\":{" SVC_CLAIM(CLAIM_B) "}"), "/b",
	    OCI_CREATE_RUNTIME);
	assert_true(cfg.ann.has_claim);
	assert_string_equal(cfg.ann.claim, CLAIM_B);
	assert_false(cfg.has_env_claim);
	/* The hook's opt-in look (OCI_POSTSTOP depth) leaves it alone. */
	config_ok(CFG(",\"annotations\":{" SVC_CLAIM("x y") "}"), "/b",
	    OCI_POSTSTOP);
	assert_true(cfg.ann.has_service);
	assert_false(cfg.ann.has_claim);
	config_bad(CFG(",\"annotations\":{" SVC_CLAIM("x y") "}"), "/b",
	    HUSH_E_FORMAT, "annotations.io.hush.claim: malformed claim (3 "
	    "bytes, byte 1 is a space");
}

static void
test_claim_env(void **state)
{
	(void)state;
	config_ok(CFG(ENV("\"PATH=/usr/bin:/bin\",\"HUSH_CLAIM=" CLAIM_A "\","
	    "\"TERM=xterm\"")), "/b", OCI_CREATE_RUNTIME);
	assert_true(cfg.has_env_claim);
	assert_string_equal(cfg.env_claim, CLAIM_A);
	assert_false(cfg.ann.has_claim);
	/* a podman secret made with `hushctl service claim | podman secret create` */
	config_ok(CFG(ENV("\"HUSH_CLAIM=" CLAIM_A "\\n\"")), "/b", OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.env_claim, CLAIM_A);
	/* Only HUSH_CLAIM=... defines it. */
	config_ok(CFG(ENV("\"HUSH_CLAIMS=" CLAIM_A "\",\"HUSH_CLAIM\","
	    "\"XHUSH_CLAIM=x\",\"hush_claim=x\",\"\"")), "/b",
	    OCI_CREATE_RUNTIME);
	assert_false(cfg.has_env_claim);
	assert_string_equal(cfg.env_claim, "");
	/* No process, no env, an empty env: no claim. */
	config_ok(CFG(""), "/b", OCI_CREATE_RUNTIME);
	assert_false(cfg.has_env_claim);
	config_ok(CFG(",\"process\":{\"args\":[\"sh\"]}"), "/b",
	    OCI_CREATE_RUNTIME);
	assert_false(cfg.has_env_claim);
	config_ok(CFG(ENV("")), "/b", OCI_CREATE_RUNTIME);
	assert_false(cfg.has_env_claim);
	/* Twice, the same: the process sees the claim hushd is sent. */
	config_ok(CFG(ENV("\"HUSH_CLAIM=" CLAIM_A "\",\"A=b\","
	    "\"HUSH_CLAIM=" CLAIM_A "\"")), "/b", OCI_CREATE_RUNTIME);
	assert_true(cfg.has_env_claim);
	assert_string_equal(cfg.env_claim, CLAIM_A);
	/* Twice, different: which one would the process believe? */
	config_claim_bad(CFG(ENV("\"HUSH_CLAIM=" CLAIM_A "\",\"A=b\","
	    "\"HUSH_CLAIM=" CLAIM_B "\"")), HUSH_E_FORMAT, "process.env: the "
	    "container gives two different claims (environment HUSH_CLAIM, at "
	    "[0] and [2]); give one", CLAIM_A);
	/* ... even when one is the start of the other. */
	config_claim_bad(CFG(ENV("\"HUSH_CLAIM=" CLAIM_A "\","
	    "\"HUSH_CLAIM=HUSHCLM-1-0123456789\"")), HUSH_E_FORMAT,
	    "process.env: the container gives two different claims "
	    "(environment HUSH_CLAIM, at [0] and [1]); give one", CLAIM_A);
	/* The runtime-spec's types, held to. */
	config_bad(CFG(ENV("\"A=b\",7")), "/b", HUSH_E_FORMAT,
	    "process.env[1]: must be a string, not an integer");
	config_bad(CFG(",\"process\":{\"env\":\"HUSH_CLAIM=x\"}"), "/b",
	    HUSH_E_FORMAT, "process.env: must be an array, not a string");
	config_bad(CFG(",\"process\":[]"), "/b", HUSH_E_FORMAT,
	    "process: must be an object, not an array");
	/* poststop reads no environment at all. */
	config_ok(CFG(ENV("\"HUSH_CLAIM=\",7")), "/b", OCI_POSTSTOP);
	assert_false(cfg.has_env_claim);
}

static void
test_claim_pick(void **state)
{
	struct oci_annotations ann;
	const char *claim;
	char why[512];

	(void)state;
	/* In the state's annotations and in the environment, the same. */
	state_ok(STATE_ANN(SVC_CLAIM(CLAIM_A)), OCI_CREATE_RUNTIME);
	config_ok(CFG(ENV("\"HUSH_CLAIM=" CLAIM_A "\"")), "/b",
	    OCI_CREATE_RUNTIME);
	assert_int_equal(oci_claim_pick(&st.ann, &cfg, &claim, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_non_null(claim);
	assert_string_equal(claim, CLAIM_A);

	/* Different: refused, and neither is quoted. */
	config_ok(CFG(ENV("\"HUSH_CLAIM=" CLAIM_B "\"")), "/b",
	    OCI_CREATE_RUNTIME);
	claim = "unset";
	assert_int_equal(oci_claim_pick(&st.ann, &cfg, &claim, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_null(claim);
	assert_string_equal(why, "the container gives two different claims "
	    "(annotation io.hush.claim and environment HUSH_CLAIM); give one");
	no_claim_in(why, CLAIM_A);
	no_claim_in(why, CLAIM_B);
	/* A prefix is a different claim too. */
	config_ok(CFG(ENV("\"HUSH_CLAIM=HUSHCLM-1-0123456789abcdefghijklmno\"")),
	    "/b", OCI_CREATE_RUNTIME);
	assert_int_equal(oci_claim_pick(&st.ann, &cfg, &claim, why,
	    sizeof(why)), HUSH_E_FORMAT);

	/* Only the environment, with the service from config.json. */
	config_ok(CFG(",\"annotations\":{\"io.hush.service\":\"web\"}"
	    ENV("\"HUSH_CLAIM=" CLAIM_B "\"")), "/b", OCI_CREATE_RUNTIME);
	assert_int_equal(oci_claim_pick(&cfg.ann, &cfg, &claim, why,
	    sizeof(why)), 0);
	assert_string_equal(claim, CLAIM_B);
	/* Only the annotation. */
	config_ok(CFG(""), "/b", OCI_CREATE_RUNTIME);
	assert_int_equal(oci_claim_pick(&st.ann, &cfg, &claim, why,
	    sizeof(why)), 0);
	assert_string_equal(claim, CLAIM_A);
	/* Neither: no claim, no error; hushd refuses and says why. */
	memset(&ann, 0, sizeof(ann));
	claim = "unset";
	assert_int_equal(oci_claim_pick(&ann, &cfg, &claim, why, sizeof(why)),
	    0);
	assert_null(claim);
	assert_string_equal(why, "");
}

static void
test_claim_malformed(void **state)
{
	static const struct {
		const char	*json;	/* the value, as JSON writes it */
		int		 r;
		const char	*why;	/* after the field */
	} bad[] = {
		{ "", HUSH_E_FORMAT, "malformed claim (0 bytes; expected 1 to 128 "
		    "printable ASCII characters without spaces)" },
		{ CLAIM_A CLAIM_A, HUSH_E_TOOBIG, "malformed claim (172 bytes; "
		    "expected 1 to 128 printable ASCII characters without "
		    "spaces)" },
		{ CLAIM_A " ", HUSH_E_FORMAT, "malformed claim (87 bytes, byte 86 "
		    "is a space, a control character or not ASCII; expected 1 "
		    "to 128 printable ASCII characters without spaces)" },
		{ " " CLAIM_A, HUSH_E_FORMAT, "malformed claim (87 bytes, byte 0 "
		    "is a space, a control character or not ASCII; expected 1 "
		    "to 128 printable ASCII characters without spaces)" },
		{ "HUSHCLM-1-\\t" CLAIM_A, HUSH_E_FORMAT, "malformed claim (97 "
		    "bytes, byte 10 is a space, a control character or not "
		    "ASCII; expected" },
		{ "HUSHCLM-1-\\u001b[2J" CLAIM_A, HUSH_E_FORMAT, "malformed claim "
		    "(100 bytes, byte 10 is a space" },
		{ "HUSHCLM-1-\\u007f" CLAIM_A, HUSH_E_FORMAT, "malformed claim "
		    "(97 bytes, byte 10 is a space" },
		{ "HUSHCLM-1-caf\\u00e9" CLAIM_A, HUSH_E_FORMAT, "malformed claim "
		    "(101 bytes, byte 13 is a space" },
		/* one trailing newline is dropped (below); a second is named */
		{ CLAIM_A "\\n\\n", HUSH_E_FORMAT, "malformed claim (87 bytes, the "
		    "last one a newline; expected 1 to 128 printable ASCII "
		    "characters without spaces)" },
		{ "\\n", HUSH_E_FORMAT, "malformed claim (0 bytes; expected" },
	};
	char json[1024], why[512], claim[OCI_CLAIM_MAX + 2];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* From the annotations of the state... */
		snprintf(json, sizeof(json), STATE_ANN(SVC_CLAIM("%s")),
		    bad[i].json);
		snprintf(why, sizeof(why), "unset");
		assert_int_equal(oci_state_parse(json, strlen(json),
		    OCI_CREATE_RUNTIME, &st, why, sizeof(why)), bad[i].r);
		n = strlen("annotations.io.hush.claim: ");
		if (strncmp(why, "annotations.io.hush.claim: ", n) != 0 ||
		    strncmp(why + n, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%zu: message '%s'", i, why);
		no_claim_in(why, CLAIM_A);
		assert_false(st.ann.has_claim);
		/* ... and from the environment in config.json. */
		snprintf(json, sizeof(json), CFG(ENV("\"A=b\","
		    "\"HUSH_CLAIM=%s\"")), bad[i].json);
		assert_int_equal(oci_config_parse(json, strlen(json), "/b",
		    OCI_CREATE_RUNTIME, &cfg, why, sizeof(why)), bad[i].r);
		n = strlen("process.env[1] (HUSH_CLAIM): ");
		if (strncmp(why, "process.env[1] (HUSH_CLAIM): ", n) != 0 ||
		    strncmp(why + n, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%zu: message '%s'", i, why);
		no_claim_in(why, CLAIM_A);
		assert_false(cfg.has_env_claim);
	}

	/* 1 and 128 bytes are the bounds; the hook does not judge the form. */
	state_ok(STATE_ANN(SVC_CLAIM("x")), OCI_CREATE_RUNTIME);
	assert_string_equal(st.ann.claim, "x");
	memset(claim, '~', sizeof(claim));
	claim[0] = '!';
	claim[OCI_CLAIM_MAX] = '\0';
	snprintf(json, sizeof(json), STATE_ANN(SVC_CLAIM("%s")), claim);
	state_ok(json, OCI_CREATE_RUNTIME);
	assert_string_equal(st.ann.claim, claim);
	snprintf(json, sizeof(json), CFG(ENV("\"HUSH_CLAIM=%s\"")), claim);
	config_ok(json, "/b", OCI_CREATE_RUNTIME);
	assert_string_equal(cfg.env_claim, claim);
	claim[OCI_CLAIM_MAX] = '~';
	claim[OCI_CLAIM_MAX + 1] = '\0';
	snprintf(json, sizeof(json), STATE_ANN(SVC_CLAIM("%s")), claim);
	state_claim_bad(json, HUSH_E_TOOBIG, "annotations.io.hush.claim: "
	    "malformed claim (129 bytes; expected 1 to 128 printable ASCII "
	    "characters without spaces)", claim);
	snprintf(json, sizeof(json), CFG(ENV("\"HUSH_CLAIM=%s\"")), claim);
	config_claim_bad(json, HUSH_E_TOOBIG, "process.env[0] (HUSH_CLAIM): "
	    "malformed claim (129 bytes; expected 1 to 128 printable ASCII "
	    "characters without spaces)", claim);
}

/*
 * jansson quotes the token it stopped at; in a claim that would be the
 * claim's start.  Only a duplicated key is still named.
 */
static void
test_claim_json_errors(void **state)
{
	static const char ctl[] = STATE_ANN("\"io.hush.service\":\"web\","
	    "\"io.hush.claim\":\"HUSHCLM-1-0123\x01\"");
	static const char utf8[] = STATE_ANN("\"io.hush.service\":\"web\","
	    "\"io.hush.claim\":\"HUSHCLM-1-0123\xff\"");
	static const char esc[] = STATE_ANN("\"io.hush.service\":\"web\","
	    "\"io.hush.claim\":\"HUSHCLM-1-0123\\q\"");
	static const char *const docs[] = { ctl, utf8, esc };
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(oci_state_parse(docs[i], strlen(docs[i]),
		    OCI_CREATE_RUNTIME, &st, why, sizeof(why)), HUSH_E_FORMAT);
		if (strncmp(why, "not valid JSON: ", 16) != 0 ||
		    strstr(why, "(line 1, column ") == NULL)
			fail_msg("message '%s'", why);
		no_claim_in(why, "HUSHCLM-1-0123");
		printable(why);
	}
	state_bad_str(BASE("\"c\"", "1", "\"/b\"", ",\"id\":\"d\""),
	    HUSH_E_FORMAT, "not valid JSON: duplicate object key near '\"id\"'");
}

/* What the hook lets through, T_CLAIM carries (lib/msg.c). */
static void
test_claim_bound_is_the_wire_bound(void **state)
{
	const struct wire_msg_spec *spec;
	size_t i;

	(void)state;
	assert_non_null(spec = msg_spec(CTL_CONTAINER_ATTACH));
	for (i = 0; i < spec->nfields; i++) {
		if (spec->fields[i].tag != T_CLAIM)
			continue;
		assert_int_equal(spec->fields[i].kind, WIRE_STR);
		assert_int_equal(spec->fields[i].min_len, 1);
		assert_int_equal(spec->fields[i].max_len, OCI_CLAIM_MAX);
		return;
	}
	fail_msg("CTL_CONTAINER_ATTACH has no T_CLAIM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_runc),
		cmocka_unit_test(test_state_crun),
		cmocka_unit_test(test_state_podman),
		cmocka_unit_test(test_state_no_service),
		cmocka_unit_test(test_state_poststop),
		cmocka_unit_test(test_state_not_json),
		cmocka_unit_test(test_state_wrong_types),
		cmocka_unit_test(test_state_id),
		cmocka_unit_test(test_state_pid),
		cmocka_unit_test(test_state_bundle),
		cmocka_unit_test(test_state_service_names),
		cmocka_unit_test(test_config_runc),
		cmocka_unit_test(test_config_crun_podman),
		cmocka_unit_test(test_config_poststop),
		cmocka_unit_test(test_config_root_path),
		cmocka_unit_test(test_config_annotations),
		cmocka_unit_test(test_config_mappings),
		cmocka_unit_test(test_claim_state_annotation),
		cmocka_unit_test(test_claim_config_annotation),
		cmocka_unit_test(test_claim_env),
		cmocka_unit_test(test_claim_pick),
		cmocka_unit_test(test_claim_malformed),
		cmocka_unit_test(test_claim_json_errors),
		cmocka_unit_test(test_claim_bound_is_the_wire_bound),
	};

	if (sodium_init() < 0)
		return 1;
	/* As the hook runs: jansson wipes what it frees (under ASan too). */
	oci_json_wipe_freed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
