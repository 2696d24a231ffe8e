/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit over any store backend (see store.h). Runs in the main
 * certdesk process, on the threads of its callers; trusts the functions it
 * is given (they come from certdesk's own components).
 *
 * State: a queue of pending items and a flag telling whether a leader is
 * committing. Each item is in one of three states: queued, taken by a
 * leader, done. A thread that queued an item waits until it is done or
 * until no leader is active, in which case it becomes the leader itself and
 * takes everything queued (at most GROUP_MAX items) for one transaction.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdlib.h>

#define GROUP_MAX 128	/* items in one transaction */

struct item {
	int (*fn)(struct store *, void *);
	void *arg;
	int rc;
	int done;
	int defer;		/* store_group_tx_deferred */
	struct item *next;
};

struct store_group {
	struct store *st;	/* used by the leader only */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head, **tail;
	int committing;
};

struct batch {
	struct item *items[GROUP_MAX];
	int n;
};

int
store_group_open(const struct store_conf *conf, struct store_group **out)
{
	struct store_group *g;
	int rc;

	*out = NULL;
	g = xcalloc(1, sizeof(*g));
	if ((rc = store_open(conf, &g->st)) != 0) {
		free(g);
		return rc;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->tail = &g->head;
	*out = g;
	return 0;
}

void
store_group_close(struct store_group *g)
{
	if (g == NULL)
		return;
	store_close(g->st);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

/* The leader's transaction: each item in its own savepoint. A conflict is
 * passed up so that store_tx retries the whole batch. */
static int
run_batch(struct store *st, void *arg)
{
	struct batch *b = arg;

	for (int i = 0; i < b->n; i++) {
		struct item *it = b->items[i];

		it->rc = store_tx(st, it->fn, it->arg);
		if (it->rc == RC_CONFLICT)
			return RC_CONFLICT;
	}
	return 0;
}

static int
group_tx(struct store_group *g, int (*fn)(struct store *, void *), void *arg,
    int defer)
{
	struct item me = {fn, arg, 0, 0, defer, NULL};
	struct batch b;
	int rc, all_defer;

	if (g == NULL || fn == NULL)
		return RC_INVAL;
	pthread_mutex_lock(&g->mu);
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->committing) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		/* lead: take what is queued (me among it, unless an earlier
		 * leader's batch was full and I am still waiting my turn) */
		g->committing = 1;
		b.n = 0;
		all_defer = 1;
		while (g->head != NULL && b.n < GROUP_MAX) {
			all_defer &= g->head->defer;
			b.items[b.n++] = g->head;
			g->head = g->head->next;
		}
		if (g->head == NULL)
			g->tail = &g->head;
		pthread_mutex_unlock(&g->mu);

		rc = all_defer ? store_tx_deferred(g->st, run_batch, &b)
			       : store_tx(g->st, run_batch, &b);

		pthread_mutex_lock(&g->mu);
		for (int i = 0; i < b.n; i++) {
			if (rc != 0 && b.items[i]->rc == 0)
				b.items[i]->rc = rc;	/* the commit failed */
			b.items[i]->done = 1;
		}
		if (rc != 0)
			log_err(LOG_STORE, "group commit of %d: %s", b.n,
			    rc_str(rc));
		g->committing = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	store_thread_wrote();
	return me.rc;
}

int
store_group_tx(struct store_group *g, int (*fn)(struct store *, void *),
    void *arg)
{
	return group_tx(g, fn, arg, 0);
}

int
store_group_tx_deferred(struct store_group *g,
    int (*fn)(struct store *, void *), void *arg)
{
	return group_tx(g, fn, arg, 1);
}
