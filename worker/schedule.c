/* schedule.c - run the worker's periodic tasks when they are due. */
#include "schedule.h"

#include <stddef.h>

#include "learning.h"
#include "deadlines.h"
#include "llmqueue.h"
#include "log.h"
#include "reminders.h"

/* The tasks, in the order they run when several are due together. Add a
 * task here: its module supplies the function. */
static const struct schedule_task tasks[] = {
    {"learn corrections", 10000, learning_run},
    {"reminders", 5000, reminders_fire_due},
    {"notification mail", 5000, outbox_send_due},
    {"note outcomes", 30000, notes_classify_recent},
    {"deadlines", 10000, deadlines_run},
    {"llm queue", 2000, llmqueue_run},
};
#define N_TASKS (sizeof(tasks) / sizeof(tasks[0]))

static struct timespec last_run[N_TASKS];
static int ran_once[N_TASKS];

/* ms_between - milliseconds from a to b */
static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

void schedule_reset(void)
{
	for (size_t i = 0; i < N_TASKS; i++)
		ran_once[i] = 0;
}

long schedule_run_due(PGconn *conn, const struct mailroom_conf *conf)
{
	long next = 60000;
	for (size_t i = 0; i < N_TASKS; i++) {
		const struct schedule_task *t = &tasks[i];
		if (t->run == NULL)
			continue;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long since = ran_once[i] ? ms_between(&last_run[i], &now) : t->interval_ms;
		if (since >= t->interval_ms) {
			char err[1024];
			int n = t->run(conn, conf, time(NULL), err, sizeof(err));
			if (n < 0)
				log_warnx("%s: %s", t->name, err);
			else if (n > 0)
				log_info("%s: %d done", t->name, n);
			clock_gettime(CLOCK_MONOTONIC, &last_run[i]);
			ran_once[i] = 1;
			since = 0;
		}
		if (t->interval_ms - since < next)
			next = t->interval_ms - since;
	}
	return next < 0 ? 0 : next;
}
