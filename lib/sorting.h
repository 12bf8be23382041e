/* sorting.h - one raw message through the steps that sort it.
 *
 * The worker and `mailroomctl classify` / `rules test` both go through
 * these functions, so that what an administrator tries on a file is what
 * the worker does with the same message: the same parser caps, the same
 * header scan for the fields a rule may ask for, the same classifier, and
 * the rules read from the database by the same statement.
 *
 * The address book and the ruleset are the caller's (the worker keeps them
 * between messages; addrbook_load() and sorting_load_rules() load them).
 */
#ifndef MAILROOM_SORTING_H
#define MAILROOM_SORTING_H

#include <libpq-fe.h>
#include <stddef.h>

#include "classify.h"
#include "mimeparse.h"
#include "rules.h"

/* The envelope of a message, as the gateway recorded it. */
struct sorting_envelope {
	const char *from;         /* MAIL FROM, with or without <>; "" or "<>": null; NULL: unknown */
	const char *const *rcpts; /* RCPT TO, with or without <> */
	size_t n_rcpts;
	const char *direction; /* "inbound", "outbound" or "internal"; NULL: inbound */
};

/* sorting_rules_json - the enabled rules of mailroom.rules as the JSON
 * array rules_compile() takes, in evaluation order; malloc'd, or NULL with
 * err */
char *sorting_rules_json(PGconn *conn, char *err, size_t errlen);
/* sorting_load_rules - compile the enabled rules into *out (a ruleset of
 * none when there are none); 0, or -1 with err (the database's or the
 * compiler's message) */
int sorting_load_rules(PGconn *conn, struct ruleset **out, char *err, size_t errlen);
/* sorting_parse - parse raw[0..len) with the worker's caps into *out; 0, or
 * -1 with why the message is unusable in err */
int sorting_parse(const char *raw, size_t len, struct mp_message *out, char *err, size_t errlen);
/* sorting_classify - classify m, parsed from raw[0..len), which the header
 * scan reads for the fields m does not keep. rules may be NULL. 0, or -1
 * with err when the address book failed or memory ran out. */
int sorting_classify(const char *raw, size_t len, const struct mp_message *m,
                     const struct sorting_envelope *env, const struct classify_addrbook *ab,
                     const struct ruleset *rules, struct classification *out, char *err, size_t errlen);

#endif
