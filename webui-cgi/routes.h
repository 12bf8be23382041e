/* routes.h - the pages of mailroom.cgi, chosen by method and PATH_INFO. */
#ifndef MAILROOM_WEB_ROUTES_H
#define MAILROOM_WEB_ROUTES_H

#include <stdio.h>

#include "conf.h"
#include "request.h"

/* route_request - answer req on out; 0, or -1 when out could not be written */
int route_request(const struct mailroom_conf *conf, const struct web_request *req, FILE *out);

#endif
