/* test-direction.c - direction from the envelope, as DESIGN.md's gateway contract says. */
#include "conf-text.h"
#include "conf.h"
#include "direction.h"
#include "tap.h"

int main(void)
{
	struct mailroom_conf *conf = conf_from_text("gateway = {\n"
						    "  local_domains = [\"example.com\", \"Example.ORG\"];\n"
						    "  internal_networks = [\"10.0.0.0/8\"];\n"
						    "};\n");
	struct direction_policy pol;
	ok(direction_policy_init(&pol, conf) == 0, "policy from conf");

	const char *ext[] = {"bob@customer.test"};
	const char *loc[] = {"info@example.com", "<Anna@EXAMPLE.org>"};
	const char *mixed[] = {"info@example.com", "bob@customer.test"};
	static const struct {
		const char *auth, *daemon, *addr, *sender;
		int which; /* 0 ext, 1 loc, 2 mixed */
		enum direction want;
	} cases[] = {
	    {NULL, "smtpd", "203.0.113.5", "bob@customer.test", 1, DIR_INBOUND},
	    {NULL, "smtpd", "203.0.113.5", "ceo@example.com", 1, DIR_INBOUND}, /* forged local sender */
	    {"anna", "smtpd", "203.0.113.5", "anna@example.com", 0, DIR_OUTBOUND},
	    {"anna", "smtpd", "203.0.113.5", "anna@example.com", 1, DIR_INTERNAL},
	    {"", "ORIGINATING", "127.0.0.1", "info@example.com", 0, DIR_OUTBOUND},
	    {NULL, "ORIGINATING", "127.0.0.1", "info@example.com", 1, DIR_INTERNAL},
	    {NULL, "ORIGINATING", "127.0.0.1", "info@example.com", 2, DIR_OUTBOUND},
	    {NULL, "smtpd", "10.2.3.4", "info@example.com", 0, DIR_OUTBOUND},
	    {NULL, "smtpd", "::ffff:10.2.3.4", "info@example.com", 1, DIR_INTERNAL},
	    {NULL, "smtpd", "11.2.3.4", "info@example.com", 0, DIR_INBOUND},
	    {NULL, "originating", "203.0.113.5", "info@example.com", 0, DIR_OUTBOUND}, /* case-insensitive */
	    {NULL, NULL, NULL, "", 1, DIR_INBOUND},
	    {"anna", NULL, NULL, "", 1, DIR_OUTBOUND}, /* null sender is not local */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *rcpts = cases[i].which == 0 ? ext : cases[i].which == 1 ? loc : mixed;
		struct direction_facts f = {cases[i].auth, cases[i].daemon, cases[i].addr, cases[i].sender, rcpts,
					    cases[i].which == 0 ? 1u : 2u};
		const char *why;
		enum direction got = direction_decide(&pol, &f, &why);
		is_str(direction_name(got), direction_name(cases[i].want), "case %zu: %s", i, why);
	}
	char buf[64];
	is_str(address_domain("<Bob@Host.Test>", buf, sizeof(buf)), "Host.Test", "domain of a bracketed address");
	is_str(address_domain("no-at-sign", buf, sizeof(buf)), "", "no domain");
	is_str(address_bare(" <a@b> ", buf, sizeof(buf)), "a@b", "bare address");
	direction_policy_free(&pol);
	conf_free(&conf);
	return done_testing();
}
