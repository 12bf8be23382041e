/* deadpolicy.h - response-deadline policies: which conversations get how
 * many business minutes for our answer.
 *
 * A policy is one line of configuration, "NAME: [class=C] [level=L]
 * [vip=yes|no] hours=N" (or minutes=N); a condition left out matches
 * anything. The first policy whose conditions all hold applies; a
 * conversation no policy matches gets no response deadline. A missing
 * priority level counts as "normal".
 */
#ifndef MAILROOM_DEADPOLICY_H
#define MAILROOM_DEADPOLICY_H

#include <stddef.h>

#define DEADPOLICY_NAME_MAX 64

struct deadpolicy {
	char name[DEADPOLICY_NAME_MAX];
	char klass[16]; /* "" for any */
	char level[16]; /* "" for any */
	int vip;        /* -1 any, 0 not VIP, 1 VIP */
	long minutes;   /* business minutes to answer */
};

/* deadpolicy_parse - one policy line into out; 0 or -1 with err */
int deadpolicy_parse(const char *spec, struct deadpolicy *out, char *err, size_t errlen);
/* deadpolicy_select - index of the first of n policies matching a
 * conversation (klass and level may be NULL), or -1 for none */
int deadpolicy_select(const struct deadpolicy *policies, size_t n, const char *klass, const char *level,
                      int vip);
/* deadpolicy_covers - for which organisations some policy covers
 * conversations of klass (NULL: none) and level: "any", "vip", "other"
 * (not VIP), or NULL for none; what the deadline task asks the database
 * for, one (class, level) at a time */
const char *deadpolicy_covers(const struct deadpolicy *policies, size_t n, const char *klass,
                              const char *level);

#endif
