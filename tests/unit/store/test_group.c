/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/store/group.c: many threads' transactions committed in
 * shared batches; a failing one undoes only itself; the audit chain stays
 * intact and every successful caller's work is there after reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "store/store.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#define THREADS 4
#define PER_THREAD 150

static char dir[] = "/tmp/certdesk-test-group-XXXXXX";
static char *db;
static struct store_group *group;

struct job {
	int thread, i;
	char name[64];
};

/* Adds a customer and audits it; every 10th job fails after its insert,
 * which must be undone while its batch-mates commit. */
static int
job_tx(struct store *st, void *arg)
{
	struct job *j = arg;
	int64_t id;
	int rc;

	if ((rc = store_customer_add(st, j->name, &id)) != 0)
		return rc;
	if ((rc = store_audit_append(st, "test", "customer.add", j->name,
	    NULL)) != 0)
		return rc;
	return j->i % 10 == 9 ? RC_POLICY : 0;
}

static void *
worker(void *arg)
{
	int t = (int)(intptr_t)arg, bad = 0;

	for (int i = 0; i < PER_THREAD; i++) {
		struct job j = {t, i, ""};
		int rc;

		snprintf(j.name, sizeof(j.name), "c-%d-%d", t, i);
		rc = store_group_tx(group, job_tx, &j);
		if (rc != (i % 10 == 9 ? RC_POLICY : 0))
			bad++;
	}
	return (void *)(intptr_t)bad;
}

static int
count_cb(const struct store_row *r, void *arg)
{
	(*(int *)arg)++;
	/* jobs whose number ends in 9 failed: their rows must not exist */
	if (r->name[strlen(r->name) - 1] == '9')
		return RC_ERR;
	return 0;
}

static void
test_concurrent_batches(void **state)
{
	struct store_conf sc = {"sqlite", db, 1};
	pthread_t th[THREADS];
	struct store *st;
	int64_t n = 0, bad_seq = 0;
	int rows = 0;

	assert_int_equal(store_group_open(&sc, &group), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < THREADS; t++) {
		void *bad;

		pthread_join(th[t], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	store_group_close(group);
	group = NULL;

	assert_int_equal(store_open(&sc, &st), 0);
	assert_int_equal(store_list(st, "customers", 0, count_cb, &rows), 0);
	assert_int_equal(rows, THREADS * PER_THREAD * 9 / 10);
	assert_int_equal(store_audit_verify(st, &n, &bad_seq), 0);
	assert_int_equal(n, THREADS * PER_THREAD * 9 / 10);
	store_close(st);
}

static void
test_bad_args(void **state)
{
	assert_int_equal(store_group_tx(NULL, job_tx, NULL), RC_INVAL);
	store_group_close(NULL);
}

static int
setup(void **state)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	db = xasprintf("%s/g.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	free(cmd);
	free(db);
	return rc;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_batches),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
