/* learnfiles.h - `mailroomctl learn LABEL FILE...`: message files sorted as the
 * worker would (lib/sorting.h), their features learnt into a new model
 * version through the same path as agents' corrections (lib/learn.h). */
#ifndef MAILROOM_CTL_LEARNFILES_H
#define MAILROOM_CTL_LEARNFILES_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define CTL_LEARN_PER_VERSION 500 /* files learnt into one model version */
#define CTL_LEARN_WEIGHT      1.0 /* a file is an ordinary example; a correction counts more */

/* ctl_learn_files - learn files[0..n) as label; a file that cannot be read
 * or parsed is reported to errout and left out. 0 when every file was
 * learnt, 1 when some were left out, -1 when nothing could be stored
 * (reported; nothing learnt of that batch). */
int ctl_learn_files(PGconn *conn, const struct mailroom_conf *conf, const char *label, char *const *files,
                    size_t n, FILE *out, FILE *errout);

#endif
