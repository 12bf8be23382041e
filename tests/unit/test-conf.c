/* test-conf.c - mailroom.conf: defaults, the sample, and every kind of error with file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

/* load_text - write text to a temporary file and load it */
static struct mailroom_conf *load_text(const char *text, char *err, size_t errlen, char *path, size_t plen)
{
	snprintf(path, plen, "/tmp/mailroom-test-conf-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	struct mailroom_conf *c = conf_load(path, err, errlen);
	unlink(path);
	return c;
}

/* group_continues - does key line `line` keep -n's groups contiguous?
 * Remembers every group left so far (a group is a key's dotted prefix);
 * false when a line's group or one of its parents was left before. */
static int group_continues(char *prev, const char *line)
{
	static char left[64][128];
	static int n_left;
	char key[128];
	size_t klen = strcspn(line, " ");
	if (klen >= sizeof(key))
		return 0;
	memcpy(key, line, klen);
	key[klen] = '\0';
	int ok_line = 1;
	for (int i = 0; i < n_left; i++) {
		size_t l = strlen(left[i]);
		if (strncmp(key, left[i], l) == 0 && key[l] == '.')
			ok_line = 0;
	}
	/* every group of prev that key is not in is now left */
	for (char *dot = strchr(prev, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		size_t l = (size_t)(dot - prev);
		if ((strncmp(key, prev, l) != 0 || key[l] != '.') && n_left < 64 && l < sizeof(left[0])) {
			memcpy(left[n_left], prev, l);
			left[n_left++][l] = '\0';
		}
	}
	snprintf(prev, 512, "%s", key);
	return ok_line;
}

int main(void)
{
	char err[1024], path[64], want[256];
	const char *srcdir = getenv("top_srcdir");
	char sample[1024];
	snprintf(sample, sizeof(sample), "%s/conf/mailroom.conf", srcdir ? srcdir : ".");
	struct mailroom_conf *c = conf_load(sample, err, sizeof(err));
	ok(c != NULL, "the documented sample loads: %s", c ? "yes" : err);
	if (c != NULL) {
		is_int(c->personal_policy, POLICY_METADATA, "sample: personal_policy");
		is_int(c->milter_on_spool_failure, SPOOL_FAIL_TEMPFAIL, "sample: on_spool_failure");
		ok(conf_list_has(&c->shared_inboxes, "INFO@example.com"),
		   "shared inboxes compare without case");
		ok(c->web_lead_reservation_roles.count == 1 &&
		       conf_list_has(&c->web_lead_reservation_roles, "agent"),
		   "sample: agents reserve the customers they write a note on");
		conf_free(&c);
	}
	ok(c == NULL, "conf_free clears the pointer");

	c = load_text("gateway = { local_domains = [\"Example.COM\"]; personal_policy = \"none\"; };\n"
	              "milter = { commit = { max_batch = 8; }; };\n"
	              "worker = { llm = { json_mode = false; ask_below_confidence = 1; }; };\n",
	              err, sizeof(err), path, sizeof(path));
	ok(c != NULL, "a partial file loads over the defaults");
	if (c != NULL) {
		is_str(c->local_domains.items[0], "example.com", "domains are folded to lower case");
		is_int(c->personal_policy, POLICY_NONE, "enum value");
		is_int(c->commit_max_batch, 8, "nested group");
		is_int(c->ingest_max_batch, 200, "untouched default");
		is_int(c->llm_enabled, 0, "the LLM is off by default");
		struct mailroom_conf *d = conf_defaults();
		ok(d->llm_ask_below_confidence == 0.6, "a real default");
		conf_free(&d);
		FILE *out = tmpfile();
		conf_print(c, out);
		rewind(out);
		char line[512];
		int seen = 0, grouped = 1;
		char prev[512] = "";
		while (fgets(line, sizeof(line), out)) {
			seen |= strcmp(line, "milter.commit.max_batch = 8;\n") == 0;
			if (line[0] != '#')
				grouped &= group_continues(prev, line);
		}
		fclose(out);
		ok(seen, "-n output shows the effective value");
		ok(grouped, "-n output keeps each group's keys together (it can be nested back into a file)");
		is_int(c->llm_json_mode, 0, "a boolean");
		ok(c->llm_ask_below_confidence == 1.0, "an integer where a real is wanted");
		conf_free(&c);
	}

	static const struct {
		const char *text, *want; /* want: the error after "FILE:" */
	} bad[] = {
	    {"gateway = {\n  local_domain = [\"x\"];\n};\n", "2: unknown setting 'gateway.local_domain'"},
	    {"milter = { spool = \"/x\"; };\n", "1: unknown setting 'milter.spool'"},
	    {"bogus = 1;\n", "1: unknown setting 'bogus'"},
	    {"milter = {\n commit = {\n  max_batch = 0;\n };\n};\n",
	     "3: milter.commit.max_batch = 0 is out of range [1, 4096]"},
	    {"milter = { timeout = \"300\"; };\n", "1: milter.timeout must be an integer"},
	    {"gateway = { personal_policy = \"some\"; };\n",
	     "1: gateway.personal_policy must be one of: full, metadata, none"},
	    {"gateway = { internal_networks = [\"10.0.0.0/40\"]; };\n",
	     "1: gateway.internal_networks[0] \"10.0.0.0/40\": not an address or network (a.b.c.d/len, "
	     "::1/128)"},
	    {"gateway = { shared_inboxes = [\"info\"]; };\n",
	     "1: gateway.shared_inboxes[0] \"info\": not a mail address (local@domain)"},
	    {"milter = { socket = [\"a\"]; };\n", "1: milter.socket must be a string"},
	    {"milter = { commit = 5; };\n", "1: unknown setting 'milter.commit'"},
	    {"gateway = {\n local_domains = [\"a\" ;\n};\n", "2: syntax error"},
	    {"deadlines = { timezone = \"Europe/Nowhere\"; };\n",
	     "1: deadlines.timezone \"Europe/Nowhere\": not a time zone of the tz database (e.g. "
	     "Europe/Berlin)"},
	    {"deadlines = { state = \"XY\"; };\n", "1: deadlines.state \"XY\": not a federal state (BW BY BE "
	                                           "BB HB HH HE MV NI NW RP SL SN ST SH TH)"},
	    {"deadlines = { hours = [\"mon-fri 8-17\"]; };\n",
	     "1: deadlines.hours[0] \"mon-fri 8-17\": not working hours (DAYS HH:MM-HH:MM or DAYS closed)"},
	    {"deadlines = { holidays = [\"12-32\"]; };\n",
	     "1: deadlines.holidays[0] \"12-32\": not a date (YYYY-MM-DD or MM-DD)"},
	    {"deadlines = { policies = [\"vip: vip=yes\"]; };\n",
	     "1: deadlines.policies[0] \"vip: vip=yes\": not a policy (NAME: [class=C] [level=L] [vip=yes|no]"
	     " hours=N|minutes=N)"},
	    {"deadlines = { followup_classes = [\"buyer\"]; };\n",
	     "1: deadlines.followup_classes[0] \"buyer\": not a class (customer, supplier, internal, "
	     "newsletter,"
	     " advertising, unclassified)"},
	    {"web = { lead_reservation_roles = [\"agent\", \"boss\"]; };\n",
	     "1: web.lead_reservation_roles[1] \"boss\": not a role (admin, lead, agent, auditor)"},
	    {"worker = { llm = { enabled = 1; }; };\n", "1: worker.llm.enabled must be true or false"},
	    {"worker = { llm = { ask_below_confidence = 1.5; }; };\n",
	     "1: worker.llm.ask_below_confidence = 1.5 is out of range [0, 1]"},
	    {"worker = { llm = { ask_below_confidence = \"0.5\"; }; };\n",
	     "1: worker.llm.ask_below_confidence must be a number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = load_text(bad[i].text, err, sizeof(err), path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].want);
		ok(c == NULL, "bad file %zu refused", i);
		is_str(err, want, "bad file %zu: error names file and line", i);
		conf_free(&c);
	}
	c = conf_load("/nonexistent/mailroom.conf", err, sizeof(err));
	ok(c == NULL && strstr(err, "cannot read") != NULL, "a missing file is an error: %s", err);
	return done_testing();
}
