/* composesig.h - signatures of mail written in the browser: one per user
 * and one per shared inbox (mailroom.signatures). A mail sent from a
 * shared inbox gets that inbox's signature, then the user's own; a mail
 * sent from the user's own address gets the user's only. */
#ifndef MAILROOM_WEB_COMPOSESIG_H
#define MAILROOM_WEB_COMPOSESIG_H

#include <libpq-fe.h>

#include "session.h"

/* compose_signed_text - body, then "-- " and the signatures that apply to
 * a mail from address from; malloc'd, NULL with err */
char *compose_signed_text(PGconn *conn, const struct session *s, const char *from, const char *body,
                          char *err, size_t errlen);

#endif
