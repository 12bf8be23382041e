/* noop-milter.c - a libmilter filter that looks at everything and does
 * nothing: the benchmark's baseline for what the milter protocol itself
 * costs Postfix.
 *
 * usage: noop-milter [-m] SOCKET   (e.g. unix:/path/noop.sock)
 *   default: the same steps mailroom-milter negotiates (every header and
 *            body chunk crosses the socket), so the ratio shows our own work;
 *   -m:      end of message only, the cheapest milter there is.
 */
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static sfsistat noop_connect(SMFICTX *c, char *h, _SOCK_ADDR *a)
{
	(void)c, (void)h, (void)a;
	return SMFIS_CONTINUE;
}
static sfsistat noop_argv(SMFICTX *c, char **argv)
{
	(void)c, (void)argv;
	return SMFIS_CONTINUE;
}
static sfsistat noop_helo(SMFICTX *c, char *h)
{
	(void)c, (void)h;
	return SMFIS_CONTINUE;
}
static sfsistat noop_header(SMFICTX *c, char *n, char *v)
{
	(void)c, (void)n, (void)v;
	return SMFIS_CONTINUE;
}
static sfsistat noop_ctx(SMFICTX *c)
{
	(void)c;
	return SMFIS_CONTINUE;
}
static sfsistat noop_body(SMFICTX *c, unsigned char *b, size_t l)
{
	(void)c, (void)b, (void)l;
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
	    .xxfi_name = (char *)(uintptr_t)"noop", /* libmilter is not const-correct */
	    .xxfi_version = SMFI_VERSION,
	    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	    .xxfi_eom = noop_ctx,
	};
	int minimal = argc == 3 && strcmp(argv[1], "-m") == 0;
	if (argc != 2 && !minimal) {
		fprintf(stderr, "usage: noop-milter [-m] SOCKET\n");
		return 2;
	}
	if (!minimal) {
		desc.xxfi_connect = noop_connect;
		desc.xxfi_helo = noop_helo;
		desc.xxfi_envfrom = noop_argv;
		desc.xxfi_envrcpt = noop_argv;
		desc.xxfi_header = noop_header;
		desc.xxfi_eoh = noop_ctx;
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
