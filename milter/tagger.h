/* tagger.h - the milter's X-Mailroom-Class: the worker's classification
 * code over a cached address book and rule set.
 *
 * The ingest thread refreshes the cache when the database says the address
 * book or the rules changed (tagger_refresh); the SMTP path only reads the
 * cache (tagger_class) and never waits on the database. The milter sees
 * the envelope and the header section, not a parsed body: rule conditions
 * on the text see nothing, and the worker's later decision over the whole
 * message is the one that counts.
 */
#ifndef MAILROOM_MILTER_TAGGER_H
#define MAILROOM_MILTER_TAGGER_H

#include <libpq-fe.h>
#include <stddef.h>

#include "conf.h"

/* tagger_init - an empty cache (only conf's own domains) until the first refresh */
void tagger_init(const struct mailroom_conf *conf);
/* tagger_refresh - reload from conn when the address book version changed; 0 or -1 */
int tagger_refresh(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen);
/* tagger_class - the class of a message from its header section and
 * envelope, or NULL when nothing decides it; the result is a static name */
const char *tagger_class(const char *headers, size_t len, const char *envelope_from,
			 const char *const *rcpts, size_t n_rcpts, const char *direction);
/* tagger_shutdown - release the cache */
void tagger_shutdown(void);

#endif
