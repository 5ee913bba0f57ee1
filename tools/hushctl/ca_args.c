/*
 * The rules of the root CA options (ca_args.h).  A refusal names what to
 * add or drop, since a mistake here would otherwise first show as the
 * daemon's refusal of a root, after the files were read and sent.
 */
#include "ca_args.h"
#include "err.h"

int
ca_args_check(const struct ca_args *a, char *why, size_t whylen)
{
	if (!a->init && !a->rotate) {
		const char *o = a->ca_cert ? "--ca-cert" : a->ca_key ?
		    "--ca-key" : a->external_ca ? "--external-ca" :
		    a->cert_expiry ? "--cert-expiry" : NULL;

		if (o != NULL) {
			set_why(why, whylen, "%s goes with --rotate", o);
			return HUSH_E_FORMAT;
		}
		return 0;
	}
	if (a->ca_key && !a->ca_cert) {
		set_why(why, whylen, "--ca-key needs --ca-cert: the root "
		    "certificate the key belongs to");
		return HUSH_E_FORMAT;
	}
	if (a->ca_key && a->external_ca) {
		set_why(why, whylen, "--ca-key cannot go with --external-ca: "
		    "an external CA holds its root's key");
		return HUSH_E_FORMAT;
	}
	if (a->ca_cert && !a->ca_key && !a->external_ca) {
		set_why(why, whylen, "--ca-cert needs a key: give --ca-key, or "
		    "--external-ca for a root whose key an external CA holds");
		return HUSH_E_FORMAT;
	}
	if (a->external_ca && !a->ca_cert) {
		set_why(why, whylen, "--external-ca needs --ca-cert: the root "
		    "certificate the external CA signs with");
		return HUSH_E_FORMAT;
	}
	return 0;
}
