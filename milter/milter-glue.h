/* milter-glue.h - the only part of mailroom-milter that knows libmilter. */
#ifndef MAILROOM_MILTER_GLUE_H
#define MAILROOM_MILTER_GLUE_H

#include "message.h"
#include "spool.h"

/* glue_listen - register the filter and bind the socket (as root, before
 * privileges are dropped); the unix socket is given to socket_group. 0 or -1. */
int glue_listen(const char *socket, const char *socket_group, int timeout_s, char *err, size_t errlen);
/* glue_set_spool - the spool every message is written to (set before glue_run) */
void glue_set_spool(struct spool *spool);
/* glue_set_gateway - settings for messages from now on; takes over the reference */
void glue_set_gateway(struct gateway *gw);
/* glue_gateway_ref - a reference to the settings in force now (gateway_unref it) */
struct gateway *glue_gateway_ref(void);
/* glue_run - serve until SIGTERM, SIGINT or SIGHUP; 0 or -1 */
int glue_run(void);
/* glue_quiesce - after glue_run: let no callback start any more, wait up
 * to ms for those running, free the sessions libmilter left behind; how
 * many callbacks still run (then the spool and settings must not be freed) */
long glue_quiesce(long ms);
/* glue_shutdown - drop the current settings at exit */
void glue_shutdown(void);

#endif
