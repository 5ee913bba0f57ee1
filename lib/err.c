#include "err.h"

const char *
hush_strerror(int code)
{
	switch (code) {
#define HUSH_ERR_CASE(name, value, text) case value: return text;
	HUSH_ERRORS(HUSH_ERR_CASE)
#undef HUSH_ERR_CASE
	}
	return "unknown error";
}

int
hush_err_from_wire(unsigned int v)
{
	if (v > (unsigned int)-HUSH_E_MIN)
		return HUSH_E_PROTO;
	return -(int)v;
}
