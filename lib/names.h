/*
 * Rules for the names operators choose: secret names, service names and
 * label keys are restricted to characters that are safe in paths, JSON,
 * shells and logs; label values are free text minus control characters.
 */
#ifndef HUSH_NAMES_H
#define HUSH_NAMES_H

#include <stddef.h>

#define SECRET_NAME_MAX	64
#define LABEL_KEY_MAX	128
#define LABEL_VALUE_MAX	512

/*
 * Accepts s[0..len) iff it is 1..SECRET_NAME_MAX characters of
 * [A-Za-z0-9_.-] starting and ending with a letter or digit.  Returns
 * HUSH_E_FORMAT, or HUSH_E_TOOBIG when too long, with a message in why.
 */
int	secret_name_check(const char *s, size_t len, char *why, size_t whylen);

/*
 * A service name (the grant a container names in its io.hush.service
 * annotation) follows the same rule, so it is just as safe in a path or a
 * log line; messages say "service name".
 */
#define SERVICE_NAME_MAX	SECRET_NAME_MAX
int	service_name_check(const char *s, size_t len, char *why, size_t whylen);

/*
 * Splits the NUL-terminated "KEY=VALUE" at the first '=' into key and val
 * (NUL-terminated).  The key is 1..LABEL_KEY_MAX characters of
 * [A-Za-z0-9._/-] starting with a letter or digit; the value is
 * 0..LABEL_VALUE_MAX bytes with no control characters.  HUSH_E_FORMAT,
 * or HUSH_E_TOOBIG when a part (or the caller's buffer) is too long.
 * Messages may quote the key but never the value.
 */
int	label_parse(const char *kv, char *key, size_t keycap, char *val,
	    size_t valcap, char *why, size_t whylen);

/*
 * The two halves of label_parse's rule, for parsers that find a label key
 * or value inside a larger text (placement constraints).  Each checks
 * exactly s[0..len), so an embedded NUL is a bad character, not the end.
 * label_value_check's message starts "value ..." and never quotes it.
 */
int	label_key_check(const char *k, size_t klen, char *why, size_t whylen);
int	label_value_check(const char *v, size_t vlen, char *why, size_t whylen);

#endif
