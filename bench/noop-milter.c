/* noop-milter.c - a libmilter filter that looks at everything and does
 * nothing: the benchmark's baseline for what the milter protocol itself
 * costs Postfix.
 *
 * usage: noop-milter [-m] SOCKET   (e.g. unix:/path/noop.sock)
 *   default: the same callbacks and the same negotiated steps as
 *            mailroom-milter (every header and body chunk crosses the
 *            socket; no reply where mailroom-milter gives none), so the
 *            ratio shows our own work and not a difference in protocol;
 *   -m:      end of message only, the cheapest milter there is;
 *   -h:      as the default, and at end of message it adds three headers
 *            of the size mailroom-milter adds (X-Mailroom-Id, -Direction,
 *            -Class): what the header changes alone cost the MTA.
 */
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The steps mailroom-milter (milter/milter-glue.c) negotiates; in the
 * no-reply ones a callback answers SMFIS_NOREPLY, as it does. */
#define NOOP_NO_REPLY                                                                                        \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static int no_reply_agreed = 1; /* every MTA the bench runs offers them all (Postfix >= 2.6) */

static sfsistat noop_negotiate(SMFICTX *c, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                               unsigned long *pf3)
{
	(void)c, (void)f2, (void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC | NOOP_NO_REPLY);
	*pf2 = *pf3 = 0;
	if ((*pf1 & NOOP_NO_REPLY) != NOOP_NO_REPLY) {
		fprintf(stderr, "noop-milter: the MTA does not offer the no-reply steps\n");
		no_reply_agreed = 0;
	}
	return SMFIS_CONTINUE;
}
static sfsistat go_on(void)
{
	return no_reply_agreed ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}
static sfsistat noop_connect(SMFICTX *c, char *h, _SOCK_ADDR *a)
{
	(void)c, (void)h, (void)a;
	return go_on();
}
static sfsistat noop_mail(SMFICTX *c, char **argv)
{
	(void)c, (void)argv;
	return SMFIS_CONTINUE;
}
static sfsistat noop_rcpt(SMFICTX *c, char **argv)
{
	(void)c, (void)argv;
	return go_on();
}
static sfsistat noop_helo(SMFICTX *c, char *h)
{
	(void)c, (void)h;
	return go_on();
}
static sfsistat noop_header(SMFICTX *c, char *n, char *v)
{
	(void)c, (void)n, (void)v;
	return go_on();
}
static sfsistat noop_eoh(SMFICTX *c)
{
	(void)c;
	return go_on();
}
static sfsistat noop_ctx(SMFICTX *c)
{
	(void)c;
	return SMFIS_CONTINUE;
}
static sfsistat noop_eom_headers(SMFICTX *c)
{
	/* libmilter takes char * for what it only reads */
	static char id[] = "X-Mailroom-Id", id_v[] = " 01a205ca-d239-7b19-9c94-20b480f60252";
	static char dir[] = "X-Mailroom-Direction", dir_v[] = " inbound";
	static char cls[] = "X-Mailroom-Class", cls_v[] = " customer";
	smfi_addheader(c, id, id_v);
	smfi_addheader(c, dir, dir_v);
	smfi_addheader(c, cls, cls_v);
	return SMFIS_CONTINUE;
}
static sfsistat noop_body(SMFICTX *c, unsigned char *b, size_t l)
{
	(void)c, (void)b, (void)l;
	return go_on();
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
	    .xxfi_name = (char *)(uintptr_t) "noop", /* libmilter is not const-correct */
	    .xxfi_version = SMFI_VERSION,
	    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	    .xxfi_eom = noop_ctx,
	};
	int minimal = argc == 3 && strcmp(argv[1], "-m") == 0;
	int headers = argc == 3 && strcmp(argv[1], "-h") == 0;
	if (argc != 2 && !minimal && !headers) {
		fprintf(stderr, "usage: noop-milter [-m | -h] SOCKET\n");
		return 2;
	}
	if (!minimal) {
		desc.xxfi_connect = noop_connect;
		desc.xxfi_helo = noop_helo;
		desc.xxfi_envfrom = noop_mail;
		desc.xxfi_envrcpt = noop_rcpt;
		desc.xxfi_header = noop_header;
		desc.xxfi_eoh = noop_eoh;
		desc.xxfi_negotiate = noop_negotiate;
		if (headers)
			desc.xxfi_eom = noop_eom_headers;
		desc.xxfi_body = noop_body;
		desc.xxfi_abort = noop_ctx;
		desc.xxfi_close = noop_ctx;
	}
	umask(0);
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[argc - 1]) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", argv[argc - 1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
