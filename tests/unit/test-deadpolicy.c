/* test-deadpolicy.c - deadline policy lines and which one applies. */
#include "deadpolicy.h"
#include "tap.h"

int main(void)
{
	static const char *const lines[] = {
	    "urgent: level=urgent hours=4",
	    "vip: class=customer vip=yes hours=8",
	    "customer: class=customer hours=24",
	    "supplier: class=supplier hours=48",
	    "quick-low: class=internal level=low vip=no minutes=90",
	};
	struct deadpolicy p[5];
	char err[256];
	for (size_t i = 0; i < 5; i++)
		is_int(deadpolicy_parse(lines[i], &p[i], err, sizeof(err)), 0, "parse \"%s\"", lines[i]);
	is_str(p[1].name, "vip", "name");
	is_str(p[1].klass, "customer", "class");
	is_int(p[1].vip, 1, "vip=yes");
	is_int(p[1].minutes, 480, "8 hours are 480 minutes");
	is_int(p[0].vip, -1, "vip left out: any");
	is_int(p[4].minutes, 90, "minutes=90");
	is_int(p[4].vip, 0, "vip=no");

	static const struct {
		const char *klass, *level;
		int vip;
		int want;
	} cases[] = {
	    {"customer", NULL, 0, 2},     {"customer", "normal", 1, 1}, {"customer", "urgent", 0, 0},
	    {"supplier", "urgent", 1, 0}, {"supplier", NULL, 1, 3},     {"newsletter", NULL, 0, -1},
	    {NULL, NULL, 0, -1},          {"internal", "low", 0, 4},    {"internal", "low", 1, -1},
	    {"customer", "high", 0, 2},   {"customer", "", 0, 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(deadpolicy_select(p, 5, cases[i].klass, cases[i].level, cases[i].vip), cases[i].want,
		       "class %s, level %s, vip %d", cases[i].klass ? cases[i].klass : "NULL",
		       cases[i].level ? cases[i].level : "NULL", cases[i].vip);

	/* which organisations a (class, level) is covered for: what the
	 * deadline task's query is given */
	static const struct {
		const char *klass, *level, *want;
	} covers[] = {
	    {"customer", "normal", "any"}, {"supplier", NULL, "any"},        {"newsletter", "urgent", "any"},
	    {"newsletter", "low", NULL},   {NULL, "normal", NULL},           {"internal", "low", "other"},
	    {"internal", "high", NULL},    {"advertising", "urgent", "any"},
	};
	for (size_t i = 0; i < sizeof(covers) / sizeof(covers[0]); i++) {
		const char *got = deadpolicy_covers(p, 5, covers[i].klass, covers[i].level);
		is_str(got ? got : "none", covers[i].want ? covers[i].want : "none",
		       "covers class %s, level %s", covers[i].klass ? covers[i].klass : "NULL",
		       covers[i].level ? covers[i].level : "NULL");
	}
	const char *vip_only = "vips: class=customer vip=yes hours=8";
	is_int(deadpolicy_parse(vip_only, &p[0], err, sizeof(err)), 0, "parse \"%s\"", vip_only);
	is_str(deadpolicy_covers(p, 1, "customer", "normal"), "vip",
	       "a policy for VIPs alone covers \"vip\"");
	is_int(deadpolicy_covers(p, 1, "supplier", "normal") == NULL, 1, "and nothing else");

	static const char *const bad[] = {
	    "no colon hours=4",
	    ": hours=4",
	    "x: class=customer",
	    "x: class=buyer hours=4",
	    "x: level=hot hours=4",
	    "x: vip=maybe hours=4",
	    "x: hours=0",
	    "x: hours=-3",
	    "x: hours=4h",
	    "x: colour=red hours=4",
	    "x y: hours=4",
	    "x: hours",
	    "x: minutes=99999999999",
	    "x: class=customerx hours=1",
	};
	struct deadpolicy q;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(deadpolicy_parse(bad[i], &q, err, sizeof(err)), -1, "refuse \"%s\"", bad[i]);
	return done_testing();
}
