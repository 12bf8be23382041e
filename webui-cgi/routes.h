/* routes.h - the pages of mailroom.cgi, chosen by method and PATH_INFO. */
#ifndef MAILROOM_WEB_ROUTES_H
#define MAILROOM_WEB_ROUTES_H

#include <stdio.h>

#include "conf.h"
#include "request.h"

/* route_request - answer req on out; 0, or -1 when out could not be written */
int route_request(const struct mailroom_conf *conf, const struct web_request *req, FILE *out);
/* route_body_max - the largest body req may send: REQ_BODY_MAX, or for a
 * multipart/form-data POST to a route that takes uploads, that route's cap
 * plus MULTIPART_OVERHEAD; *max gets the route's cap (0: none) */
size_t route_body_max(const struct web_request *req, size_t *max);

#endif
