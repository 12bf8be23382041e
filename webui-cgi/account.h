/* account.h - the signed-in user's own account page and second factor:
 * GET /account, POST /account/totp (start: QR code and key),
 * POST /account/totp/confirm (stored only with a right code),
 * POST /account/totp/off (needs the password). */
#ifndef MAILROOM_WEB_ACCOUNT_H
#define MAILROOM_WEB_ACCOUNT_H

#include "handler.h"

/* account_page - GET /account */
int account_page(struct ctx *c, const char *arg);
/* account_totp_start - POST /account/totp: a new key, sealed in the form totp-confirm */
int account_totp_start(struct ctx *c, const char *arg);
/* account_totp_confirm - POST /account/totp/confirm: store the key when the code is right */
int account_totp_confirm(struct ctx *c, const char *arg);
/* account_totp_off - POST /account/totp/off: no second factor, given the password */
int account_totp_off(struct ctx *c, const char *arg);

#endif
