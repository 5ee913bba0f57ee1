#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "disk_space.h"
#include "err.h"

int
disk_free(const char *path, uint64_t *free_bytes)
{
	struct statvfs sv;

	*free_bytes = 0;
	if (statvfs(path, &sv) != 0)
		return -1;
	/* f_bavail, not f_bfree: hush's processes are not all root. */
	*free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

int
disk_check(const char *path, const char *shown, uint64_t need, char *why,
    size_t whylen)
{
	uint64_t avail;

	if (shown == NULL)
		shown = path;
	if (disk_free(path, &avail) != 0) {
		snprintf(why, whylen, "cannot tell the free space on %s: %s", shown,
		    strerror(errno));
		return HUSH_E_IO;
	}
	if (avail >= need)
		return 0;
	snprintf(why, whylen, "no space left on %s: %llu bytes free, %llu needed",
	    shown, (unsigned long long)avail, (unsigned long long)need);
	return HUSH_E_NOSPACE;
}
