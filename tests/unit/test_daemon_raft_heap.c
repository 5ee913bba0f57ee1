/*
 * The raft process's allocator for libraft (daemon/raft/raft_heap.c):
 * reallocation keeps what it held and costs O(1) a byte as a block grows,
 * as libraft grows the array of entries it loads one segment at a time.
 * It once copied on every call, and a restart with 315,000 entries in the
 * log took 40 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <raft.h>

#include "raft/raft_proc.h"

static void
test_growth_moves_rarely(void **state)
{
	const size_t most = 64 * 1024;
	uint8_t *p = NULL, *q;
	unsigned moves = 0;

	raft_heap_install_zeroing();
	for (size_t n = 1; n <= most; n++) {
		q = raft_realloc(p, n);
		assert_non_null(q);
		if (p != NULL && q != p) {
			moves++;
			/* what it held came along */
			assert_int_equal(q[n - 2], (uint8_t)((n - 2) * 7));
		}
		q[n - 1] = (uint8_t)((n - 1) * 7);
		p = q;
	}
	for (size_t i = 0; i < most; i++)
		assert_int_equal(p[i], (uint8_t)(i * 7));
	/* doubling: about log2(64 KiB) moves, not one per call */
	assert_true(moves <= 24);
	/* shrinking keeps the block */
	assert_ptr_equal(raft_realloc(p, 16), p);
	raft_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_moves_rarely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
