/* test-webusers.c - the pure parts behind the user and account pages: the
 * QR code's SVG, the sealed pending TOTP key, the user field checks and
 * random passwords with their hashes. */
#include <qrencode.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "qrsvg.h"
#include "tap.h"
#include "totpseal.h"
#include "userfields.h"

/* svg_of - qrsvg_modules' output for a matrix, malloc'd */
static char *svg_of(const unsigned char *m, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	qrsvg_modules(mem, m, width);
	fclose(mem);
	return buf;
}

/* path_modules - paint the rectangles "Mx yhNv1h-Nz" of the SVG's path back
 * into a size x size matrix (size with the quiet zone); -1 on a bad path */
static int path_modules(const char *svg, unsigned char *out, int size)
{
	const char *d = strstr(svg, " d=\"");
	if (d == NULL)
		return -1;
	d += 4;
	memset(out, 0, (size_t)size * (size_t)size);
	while (*d == 'M') {
		int x, y, w, w2, n = 0;
		if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &n) != 4 || n == 0 || w != w2 || w < 1 ||
		    x < 0 || y < 0 || x + w > size || y >= size)
			return -1;
		for (int i = 0; i < w; i++) {
			if (out[y * size + x + i])
				return -1; /* rectangles never overlap */
			out[y * size + x + i] = 1;
		}
		d += n;
	}
	return *d == '"' ? 0 : -1;
}

/* same_modules - does the SVG show exactly the dark modules of m, inside a
 * quiet zone of QRSVG_QUIET? */
static int same_modules(const char *svg, const unsigned char *m, int width)
{
	int size = width + 2 * QRSVG_QUIET, good = 1;
	unsigned char *got = malloc((size_t)size * (size_t)size);
	if (got == NULL || path_modules(svg, got, size) < 0) {
		free(got);
		return 0;
	}
	for (int y = 0; y < size && good; y++)
		for (int x = 0; x < size && good; x++) {
			int in = x >= QRSVG_QUIET && y >= QRSVG_QUIET && x < width + QRSVG_QUIET &&
			         y < width + QRSVG_QUIET;
			int want = in ? (m[(y - QRSVG_QUIET) * width + (x - QRSVG_QUIET)] & 1) : 0;
			good = got[y * size + x] == want;
		}
	free(got);
	return good;
}

static void test_svg_small(void)
{
	/* bit 0 is the module; libqrencode sets other bits for its own use */
	const unsigned char m[9] = {0x01, 0x03, 0x00, 0x00, 0xc1, 0x00, 0x81, 0x80, 0x01};
	char *svg = svg_of(m, 3);
	ok(strncmp(svg, "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 11 11\"", 70) ==
	       0,
	   "svg: class qr and a viewBox with the quiet zone");
	ok(strstr(svg, "<path fill=\"#000\" d=\"M4 4h2v1h-2zM5 5h1v1h-1zM4 6h1v1h-1zM6 6h1v1h-1z\"/>") !=
	       NULL,
	   "svg: one rectangle per run of dark modules, other bits ignored");
	ok(strstr(svg, "<rect width=\"11\" height=\"11\" fill=\"#fff\"/>") != NULL,
	   "svg: a white background");
	ok(strstr(svg, "style") == NULL, "svg: no style attribute");
	ok(same_modules(svg, m, 3), "svg: the path paints exactly the dark modules");
	free(svg);
	const unsigned char blank[4] = {0};
	svg = svg_of(blank, 2);
	ok(strstr(svg, " d=\"\"/>") != NULL, "svg: no dark module, an empty path");
	free(svg);
}

static void test_svg_qrencode(void)
{
	const char *uri =
	    "otpauth://totp/mailroom:ann?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=mailroom"
	    "&algorithm=SHA1&digits=6&period=30";
	QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	ok(qr != NULL, "libqrencode encodes an otpauth URI");
	if (qr == NULL)
		return;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	is_int(qrsvg_text(mem, uri), 0, "qrsvg_text");
	fclose(mem);
	ok(same_modules(buf, qr->data, qr->width), "the SVG is libqrencode's matrix (%d modules wide)",
	   qr->width);
	is_int((qr->width - 17) % 4, 0, "a QR code's width: 17 + 4 x version");
	/* the finder pattern: a 7x7 dark ring at the top left */
	ok(strstr(buf, "d=\"M4 4h7v1h-7z") != NULL, "the finder pattern's top row starts the path");
	free(buf);
	QRcode_free(qr);
	char big[QRSVG_TEXT_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(qrsvg_text(stdout, big), -1, "text over QRSVG_TEXT_MAX is refused");
}

static void test_seal(void)
{
	unsigned char csrf[CSRF_KEY_BYTES], other[CSRF_KEY_BYTES], key[TOTP_KEY_BYTES], got[TOTP_KEY_BYTES];
	char sealed[TOTP_SEAL_HEX + 1], again[TOTP_SEAL_HEX + 1];
	time_t now = 1700000000;
	randombytes_buf(csrf, sizeof(csrf));
	randombytes_buf(other, sizeof(other));
	randombytes_buf(key, sizeof(key));
	is_int(totp_seal(csrf, key, now, sealed), 0, "seal");
	is_int((long long)strlen(sealed), TOTP_SEAL_HEX, "sealed: %d hex digits", TOTP_SEAL_HEX);
	is_int(totp_unseal(csrf, sealed, now + 60, got), 1, "opens in the same session");
	ok(memcmp(got, key, sizeof(key)) == 0, "  to the same key");
	char hex[2 * TOTP_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	ok(strstr(sealed, hex) == NULL, "the key cannot be read from it");
	is_int(totp_seal(csrf, key, now, again), 0, "seal again");
	ok(strcmp(sealed, again) != 0, "  a fresh nonce each time");
	is_int(totp_unseal(other, sealed, now, got), 0, "another session's key does not open it");
	is_int(totp_unseal(csrf, sealed, now + TOTP_SEAL_MAX_AGE, got), 1, "opens until TOTP_SEAL_MAX_AGE");
	is_int(totp_unseal(csrf, sealed, now + TOTP_SEAL_MAX_AGE + 1, got), 0, "  not after");
	is_int(totp_unseal(csrf, sealed, now - 1, got), 0, "  nor before it was made");
	for (size_t i = 0; i < TOTP_SEAL_HEX; i += 17) {
		char bad[TOTP_SEAL_HEX + 1];
		memcpy(bad, sealed, sizeof(bad));
		bad[i] = bad[i] == '0' ? '1' : '0';
		is_int(totp_unseal(csrf, bad, now, got), 0, "one digit changed at %zu: refused", i);
	}
	const char *malformed[] = {"", "00", "zz", NULL};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		is_int(totp_unseal(csrf, malformed[i], now, got), 0, "malformed \"%s\": refused",
		       malformed[i] != NULL ? malformed[i] : "(null)");
	char longer[TOTP_SEAL_HEX + 3];
	snprintf(longer, sizeof(longer), "%s00", sealed);
	is_int(totp_unseal(csrf, longer, now, got), 0, "longer: refused");
	char upper[TOTP_SEAL_HEX + 1];
	memcpy(upper, sealed, sizeof(upper));
	upper[TOTP_SEAL_HEX - 1] = 'g';
	is_int(totp_unseal(csrf, upper, now, got), 0, "a non-hex digit: refused");
}

static void test_fields(void)
{
	static const struct {
		const char *login, *name, *email, *role;
		int good;
	} cases[] = {
	    {"ann", "Ann", "", "agent", 1},
	    {"a.b_c-9", "Ann Lee", "ann@example.com", "admin", 1},
	    {"0ann", "Änne Müller", "änne@exämple.de", "lead", 1},
	    {"ann", "Ann", NULL, "auditor", 1},
	    {"Ann", "Ann", "", "agent", 0},
	    {".ann", "Ann", "", "agent", 0},
	    {"", "Ann", "", "agent", 0},
	    {"ann lee", "Ann", "", "agent", 0},
	    {"ann'--", "Ann", "", "agent", 0},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Ann", "", "agent", 1},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Ann", "", "agent", 0},
	    {"ann", "", "", "agent", 0},
	    {"ann", NULL, "", "agent", 0},
	    {"ann", "Ann\nLee", "", "agent", 0},
	    {"ann", "Ann\tLee", "", "agent", 0},
	    {"ann", "<script>alert(1)</script>", "", "agent", 1},
	    {"ann", "Ann", "ann", "agent", 0},
	    {"ann", "Ann", "ann@", "agent", 0},
	    {"ann", "Ann", "@example.com", "agent", 0},
	    {"ann", "Ann", "a@b@c", "agent", 0},
	    {"ann", "Ann", "ann lee@example.com", "agent", 0},
	    {"ann", "Ann", "<ann@example.com>", "agent", 0},
	    {"ann", "Ann", "ann@exa;mple.com", "agent", 0},
	    {"ann", "Ann", "ann\xc2\xa0x@example.com", "agent", 0}, /* no-break space */
	    {"ann", "Ann", "", "root", 0},
	    {"ann", "Ann", "", "", 0},
	    {"ann", "Ann", "", NULL, 0},
	    {"ann", "Ann", "", "Admin", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *msg =
		    userfields_check(cases[i].login, cases[i].name, cases[i].email, cases[i].role);
		ok((msg == NULL) == cases[i].good, "fields %zu (login %s, role %s): %s", i, cases[i].login,
		   cases[i].role != NULL ? cases[i].role : "(null)", cases[i].good ? "good" : "refused");
	}
	char name[2 * 201 + 1] = "";
	for (int i = 0; i < 200; i++)
		memcpy(name + 2 * i, "\xc3\xa4", 3); /* 200 characters, 400 bytes */
	ok(userfields_name(name), "a name of 200 two-byte characters");
	memcpy(name + 400, "a", 2);
	ok(!userfields_name(name), "a name of 201 characters is refused");
	ok(userfields_check(NULL, "Ann", "", "agent") == NULL, "no login to check (an edit)");
}

static void test_password(void)
{
	char a[PASSWORD_RANDOM_LEN + 1], b[PASSWORD_RANDOM_LEN + 1], hash[PASSWORD_HASH_MAX];
	is_int(password_random(a, PASSWORD_RANDOM_LEN), 0, "a random password");
	is_int((long long)strlen(a), PASSWORD_RANDOM_LEN, "  of %d characters", PASSWORD_RANDOM_LEN);
	is_int((long long)strspn(a, "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"),
	       PASSWORD_RANDOM_LEN, "  without look-alike characters");
	password_random(b, PASSWORD_RANDOM_LEN);
	ok(strcmp(a, b) != 0, "two random passwords differ");
	is_int(password_hash(a, hash), 0, "hash");
	ok(strncmp(hash, "$argon2id$", 10) == 0, "  an Argon2id string");
	ok(password_verify(hash, a), "  verifies its password");
	ok(!password_verify(hash, b), "  not another");
	ok(!password_verify("", a) && !password_verify(hash, NULL), "no hash or no password: no match");
	ok(!password_weak_hash(hash), "  made with today's limits");
	ok(password_weak_hash(
	       "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	   "a hash with weaker limits is weak");
	char longpw[PASSWORD_INPUT_MAX + 2];
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	ok(!password_verify(hash, longpw), "a password over PASSWORD_INPUT_MAX never matches");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_svg_small();
	test_svg_qrencode();
	test_seal();
	test_fields();
	test_password();
	return done_testing();
}
